// CacheService over gRPC: proto messages onto the cache engine. No I/O of its own.
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { CacheControl, CacheService, type CacheKey } from "#libs/gen/llmgw/cache/v1/cache_pb.ts";
import { cacheCategory } from "./domain/cache-category.ts";
import type { CacheEngine } from "./domain/engine.ts";
import type { CacheControl as EngineControl, CacheRequest } from "./domain/types.ts";

type Impl = ServiceImpl<typeof CacheService>;

const CONTROL: Record<CacheControl, EngineControl> = {
  [CacheControl.UNSPECIFIED]: "default",
  [CacheControl.DEFAULT]: "default",
  [CacheControl.OFF]: "off",
  [CacheControl.REFRESH]: "refresh",
  [CacheControl.NO_STORE]: "no-store",
};

export function toCacheRequest(key: CacheKey | undefined): CacheRequest {
  let params: Record<string, unknown> = {};
  if (key?.paramsJson) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(key.paramsJson);
    } catch {
      throw new ConnectError("key.params_json is not valid JSON", Code.InvalidArgument);
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new ConnectError("key.params_json must be a JSON object", Code.InvalidArgument);
    params = parsed as Record<string, unknown>;
  }
  const messages = (key?.messages ?? []).map((m) => ({ role: m.role, content: m.content }));
  // Not a chat answer: the caller's category is the TTL category as it is (no task mapping, no "today" rule).
  if (key?.exactOnly) return { tenant: key.context?.tenantId ?? "", scope: key.scope, messages, params, category: key.category || "default", cacheControl: CONTROL[key.control], exactOnly: true };
  const lastUser = [...messages].reverse().find((m) => m.role === "user")?.content ?? "";
  return {
    tenant: key?.context?.tenantId ?? "",
    scope: key?.scope ?? "",
    messages,
    params,
    category: cacheCategory(key?.category ?? "", lastUser),
    cacheControl: CONTROL[key?.control ?? CacheControl.DEFAULT],
  };
}

export class CacheServiceImpl implements Impl {
  constructor(private readonly engine: CacheEngine) {}

  async lookup(req: Parameters<Impl["lookup"]>[0]) {
    const request = toCacheRequest(req.key);
    const r = await this.engine.lookup(request);
    if (!r.hit) return { hit: false, reason: r.reason };
    return { hit: true, layer: r.layer, similarity: r.similarity, completionJson: r.answer.completionJson, model: r.answer.model, category: request.category, matchedQuestion: r.question ?? "", entryId: r.entryId ?? "" };
  }

  async store(req: Parameters<Impl["store"]>[0]) {
    const r = await this.engine.store(toCacheRequest(req.key), { completionJson: req.completionJson, model: req.model, createdAt: Date.now() });
    return { stored: r.stored, reason: r.reason ?? "" };
  }

  async getEconomics() {
    return {
      categories: this.engine.economicsSnapshot().map((e) => ({
        category: e.category,
        semanticOn: e.semanticOn,
        lookups: BigInt(e.lookups),
        hits: BigInt(e.hits),
        hitRate: e.hitRate,
        breakEvenHitRate: e.breakEvenHitRate,
        lookupMs: e.lookupMs,
        switches: BigInt(e.switches),
        qualitySuspended: e.qualitySuspended,
        qualityFloor: e.qualityFloor,
      })),
      pooled: this.engine.economicsPooled,
    };
  }

  async invalidate(req: Parameters<Impl["invalidate"]>[0]) {
    if (!req.tenantId) throw new ConnectError("tenant_id is required", Code.InvalidArgument);
    if (req.olderThanSeconds < 0n) throw new ConnectError("older_than_seconds must not be negative", Code.InvalidArgument);
    const removed = await this.engine.invalidate({
      tenant: req.tenantId,
      ...(req.namespace ? { namespace: req.namespace } : {}),
      ...(req.model ? { model: req.model } : {}),
      ...(req.olderThanSeconds > 0n ? { olderThanMs: Number(req.olderThanSeconds) * 1000 } : {}),
    });
    return { removed: BigInt(removed) };
  }
}
