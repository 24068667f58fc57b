// The ledger's access controls beside budgets: rate-limit RPCs (stored in its database, applied by
// ReserveBudget), every refused admission recorded, and revocations announced to every edge.
import { Code } from "@connectrpc/connect";
import { serviceError } from "#libs/errors/connect-to-openai.ts";
import type { ListRateLimitsRequest, ListRefusalsRequest, RateLimits, SetRateLimitsRequest } from "#libs/gen/llmgw/ledger/v1/ledger_pb.ts";
import type { ReserveRequest, ReserveResult } from "./domain/budget.ts";
import { RATE_FIELDS, type RateLimitRow } from "./domain/rate-limit.ts";
import type { RateLimitRepo } from "./storage/rate-limits.ts";
import type { RefusalRecorder } from "./storage/refusal-recorder.ts";

/** The proto's optional int64 fields, by the domain's names. */
const PROTO_FIELD = {
  requests_per_minute: "requestsPerMinute",
  tokens_per_minute: "tokensPerMinute",
  requests_per_day: "requestsPerDay",
  tokens_per_day: "tokensPerDay",
} as const;

// A limit is a count per window; past 10^12 it is no limit (and stays exact in a Lua double).
const MAX_LIMIT = 1_000_000_000_000n;

export class AccessRpcs {
  constructor(
    private readonly repo: RateLimitRepo,
    private readonly refusals: RefusalRecorder,
    private readonly announceRevoked: (keyId: string) => Promise<void>,
  ) {}

  async setRateLimits(req: SetRateLimitsRequest) {
    const l = req.limits;
    if (!l?.tenantId) throw serviceError("limits.tenant_id is required", Code.InvalidArgument, { param: "tenant_id" });
    const row: RateLimitRow = { tenantId: l.tenantId, keyId: l.keyId };
    for (const f of RATE_FIELDS) {
      const v = l[PROTO_FIELD[f]];
      if (v === undefined) continue;
      if (v <= 0n || v > MAX_LIMIT) throw serviceError(`${f} must be a whole number from 1 to ${MAX_LIMIT}`, Code.InvalidArgument, { param: f });
      row[f] = Number(v);
    }
    await this.repo.set(row);
    return {};
  }

  async listRateLimits(req: ListRateLimitsRequest) {
    const rows = await this.repo.list(req.tenantId || undefined);
    return { limits: rows.map(toProto) };
  }

  async listRefusals(req: ListRefusalsRequest) {
    const since = req.since ? new Date(req.since) : undefined;
    if (since && Number.isNaN(since.getTime())) throw serviceError("since must be an ISO-8601 time", Code.InvalidArgument, { param: "since" });
    if (req.limit < 0 || req.limit > 1000) throw serviceError("limit must be from 1 to 1000", Code.InvalidArgument, { param: "limit" });
    const rows = await this.refusals.list({ ...(req.tenantId ? { tenantId: req.tenantId } : {}), ...(since ? { since } : {}), limit: req.limit || 100 });
    return {
      refusals: rows.map((r) => ({ requestId: r.requestId, tenantId: r.tenantId, keyId: r.keyId, reason: r.reason, limitName: r.limitName, retryAfterMs: BigInt(r.retryAfterMs ?? 0), refusedAt: r.at.toISOString() })),
    };
  }

  /** Every refusal (rate limit or hard budget) goes to the ledger's table, batched. */
  afterReserve(req: ReserveRequest, res: ReserveResult): void {
    if (res.admitted) return;
    this.refusals.record({
      requestId: req.reservationId,
      tenantId: req.tenantId,
      keyId: req.keyId,
      reason: res.rateLimited ? "rate_limit" : "budget",
      limitName: res.rateLimited?.refusedBy ?? (res.message.match(/\(([^)]*)\)/)?.[1] ?? "budget"),
      ...(res.rateLimited ? { retryAfterMs: res.rateLimited.retryAfterMs } : {}),
      at: new Date(),
    });
  }

  /** After the revocation is stored: every edge drops the key from its cache at once. */
  afterRevoke(keyId: string): Promise<void> {
    return this.announceRevoked(keyId);
  }
}

function toProto(r: RateLimitRow): Omit<RateLimits, "$typeName"> {
  const out: Omit<RateLimits, "$typeName"> = { tenantId: r.tenantId, keyId: r.keyId };
  for (const f of RATE_FIELDS) {
    const v = r[f];
    if (v !== undefined) out[PROTO_FIELD[f]] = BigInt(v);
  }
  return out;
}
