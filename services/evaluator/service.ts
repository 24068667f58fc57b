// EvaluatorService over gRPC: scores an answer on demand and reports the downgrade findings.
import { ConnectError, Code, type ServiceImpl } from "@connectrpc/connect";
import { EvaluatorService } from "#libs/gen/llmgw/evaluator/v1/evaluator_pb.ts";
import { tierFromName } from "#libs/rpc/tier.ts";
import { answerView, requestView } from "./answer-view.ts";
import type { FindingSource } from "./domain/downgrade.ts";
import { scoreAnswer } from "./domain/score.ts";
import type { CacheQualityRow, PolicyQualityRow, RefutedCacheEntry } from "./storage/shadow-results.ts";
import { wilsonInterval } from "#libs/stats/binomial.ts";

function intervalOf(passes: number, n: number): { low: number; high: number } {
  const [low, high] = wilsonInterval(passes, n);
  return { low, high };
}

type Impl = ServiceImpl<typeof EvaluatorService>;

/** Shadow pass rates per routing policy arm (the canary report) and the cache audits' wrong-hit rates. */
export interface QualitySource {
  policyQuality(from: Date): Promise<PolicyQualityRow[]>;
  cacheQuality(from: Date, tenant?: string): Promise<CacheQualityRow[]>;
  refutedEntries(from: Date, tenant?: string): Promise<RefutedCacheEntry[]>;
}

export class EvaluatorServiceImpl implements Impl {
  constructor(
    private readonly stats: FindingSource,
    private readonly quality?: QualitySource,
  ) {}

  async getPolicyQuality(req: Parameters<Impl["getPolicyQuality"]>[0]) {
    const since = sinceOf(req.since);
    if (!this.quality) return { rows: [] };
    const rows = await this.quality.policyQuality(since);
    return { rows: rows.map((r) => ({ policyVersion: BigInt(r.policyVersion), canary: r.canary, direction: r.direction, tests: BigInt(r.tests), passes: BigInt(r.passes), passRate: r.passRate, low: r.low, high: r.high })) };
  }

  async getCacheQuality(req: Parameters<Impl["getCacheQuality"]>[0]) {
    const since = sinceOf(req.since);
    if (!this.quality) return { rows: [], refutedEntries: [] };
    const [rows, refuted] = await Promise.all([this.quality.cacheQuality(since, req.tenantId), req.withEntries ? this.quality.refutedEntries(since, req.tenantId) : []]);
    return {
      refutedEntries: refuted.map((e) => ({ tenantId: e.tenantId, entryId: e.entryId, category: e.category, similarity: e.similarity })),
      rows: rows.map((r) => ({ category: r.category, audits: BigInt(r.audits), wrong: BigInt(r.wrong), wrongHitRate: r.wrongHitRate, low: r.low, high: r.high, baselineAudits: BigInt(r.baselineAudits), baselineWrong: BigInt(r.baselineWrong), baselineHigh: r.baselineHigh, baselineLow: r.baselineLow,
        cuts: r.cuts.map((c) => ({ similarity: c.similarity, audits: BigInt(c.audits), wrong: BigInt(c.wrong), high: c.high })),
        refutedEntries: BigInt(r.refutedEntries),
      })),
    };
  }

  evaluate(req: Parameters<Impl["evaluate"]>[0]) {
    const candidate = parsed("answer_json", "a chat.completion", req.answerJson, answerView);
    if (!candidate) throw new ConnectError("answer_json is required", Code.InvalidArgument);
    const request = parsed("request_json", "a chat completion request", req.requestJson, requestView);
    const reference = parsed("reference_json", "a chat.completion", req.referenceJson, answerView);
    const s = scoreAnswer(request, candidate, reference);
    return { ok: s.ok, score: s.score, failures: s.failures };
  }

  async getDowngradeReport(req: Parameters<Impl["getDowngradeReport"]>[0]) {
    return {
      findings: (await this.stats.report(req.tenantId)).map((f) => ({
        category: f.category,
        tier: tierFromName(f.tier),
        fromModel: f.from,
        toModel: f.to,
        samples: BigInt(f.samples),
        passRate: f.passRate,
        safe: f.safe,
        ...intervalOf(f.passes, f.samples),
      })),
    };
  }
}

const decoder = new TextDecoder();

function sinceOf(iso: string): Date {
  const since = new Date(iso);
  if (!iso || Number.isNaN(since.getTime())) throw new ConnectError("since must be an ISO-8601 timestamp", Code.InvalidArgument);
  return since;
}

/** Reads an optional JSON-object field with `view`; anything else is the caller's mistake (InvalidArgument). */
function parsed<T>(field: string, what: string, json: Uint8Array, view: (json: Uint8Array) => T): T {
  if (json.length > 0) {
    let value: unknown;
    try {
      value = JSON.parse(decoder.decode(json));
    } catch {
      throw new ConnectError(`${field} is not valid JSON`, Code.InvalidArgument);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new ConnectError(`${field} must be ${what} JSON object`, Code.InvalidArgument);
  }
  try {
    return view(json);
  } catch {
    throw new ConnectError(`${field} is not ${what} JSON object`, Code.InvalidArgument);
  }
}
