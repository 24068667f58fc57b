// LedgerService over gRPC: keys, budgets and spend reports. Writes of usage arrive over the bus
// (consumer/), not through RPCs, so the hot path never waits for PostgreSQL.
import { ConnectError, Code, type ServiceImpl } from "@connectrpc/connect";
import { serviceError } from "#libs/errors/connect-to-openai.ts";
import { LedgerService, type ReserveBudgetResponse } from "#libs/gen/llmgw/ledger/v1/ledger_pb.ts";
import type { Budgets } from "./domain/budget.ts";
import type { BudgetLimitRepo } from "./storage/budget-limits.ts";
import type { KeyStore } from "./storage/key-store.ts";
import type { ResponseRpcs } from "./response-rpcs.ts";
import type { AccessRpcs } from "./access-rpcs.ts";
import type { BatchRpcs } from "./batch-rpcs.ts";
import { GROUP_BYS, type GroupBy, type SpendReport, type SpendRow } from "./storage/spend-report.ts";

type Impl = ServiceImpl<typeof LedgerService>;

// Bad input is a ConnectError with InvalidArgument (the edge answers 400 with the message); anything
// else thrown here is the ledger's own failure (500, message kept out of the answer).
const USD = /^\d+(\.\d+)?$/;
const MIN_KEY_LENGTH = 16;

export class LedgerServiceImpl implements Impl {
  constructor(
    private readonly keys: KeyStore,
    private readonly budgets: Budgets,
    private readonly spend: SpendReport,
    private readonly limits: BudgetLimitRepo,
    private readonly responses: ResponseRpcs,
    /** Rate limits, refusal records, revocation announcements (absent in tests that do not need them). */
    private readonly access?: AccessRpcs,
    /** The Batches API's state (absent in tests that do not need it). */
    private readonly batches?: BatchRpcs,
  ) {}

  private batchRpcs(): BatchRpcs {
    if (!this.batches) throw new ConnectError("batches are not served by this ledger", Code.Unimplemented);
    return this.batches;
  }

  async verifyKey(req: Parameters<Impl["verifyKey"]>[0]) {
    if (!req.key) return { valid: false };
    const v = await this.keys.verify(req.key);
    return { valid: v.valid, keyId: v.keyId, tenantId: v.tenantId, admin: v.admin };
  }

  async createKey(req: Parameters<Impl["createKey"]>[0]) {
    if (!req.tenantId) throw serviceError("tenant_id is required", Code.InvalidArgument, { param: "tenant_id" });
    if (req.key && req.key.length < MIN_KEY_LENGTH) throw serviceError(`key is too short (min ${MIN_KEY_LENGTH} characters)`, Code.InvalidArgument, { param: "key" });
    try {
      return await this.keys.create({ tenantId: req.tenantId, name: req.name, admin: req.admin, key: req.key || undefined });
    } catch (e) {
      // A chosen key that is already stored; any other failure is ours, not the caller's (no 400).
      if (isUniqueViolation(e)) throw new ConnectError("this key already exists", Code.AlreadyExists);
      throw e;
    }
  }

  async listKeys(req: Parameters<Impl["listKeys"]>[0]) {
    const keys = await this.keys.list(req.tenantId || undefined);
    return {
      keys: keys.map((k) => ({ keyId: k.keyId, tenantId: k.tenantId, name: k.name, admin: k.admin, prefix: k.prefix, createdAt: k.createdAt, revoked: k.revoked })),
    };
  }

  async revokeKey(req: Parameters<Impl["revokeKey"]>[0]) {
    const revoked = await this.keys.revoke(req.keyId);
    if (revoked) await this.access?.afterRevoke(req.keyId);
    return { revoked };
  }

  async reserveBudget(req: Parameters<Impl["reserveBudget"]>[0]) {
    if (!req.reservationId) throw new ConnectError("reservation_id is required", Code.InvalidArgument);
    if (req.amountUsd && !USD.test(req.amountUsd)) throw new ConnectError("amount_usd must be a non-negative decimal USD string", Code.InvalidArgument);
    if (req.tokens < 0n) throw new ConnectError("tokens must not be negative", Code.InvalidArgument);
    const r = { reservationId: req.reservationId, tenantId: req.tenantId, keyId: req.keyId, amountUsd: req.amountUsd || "0", tokens: Number(req.tokens) };
    const res = await this.budgets.reserve(r);
    this.access?.afterReserve(r, res);
    const s = res.rateStatus;
    // A whole message ($typeName and every field): the in-process client passes it on without a create().
    const out: ReserveBudgetResponse = {
      $typeName: "llmgw.ledger.v1.ReserveBudgetResponse",
      admitted: res.admitted,
      state: res.state,
      message: res.message,
      rateLimited: res.rateLimited !== undefined,
      rateLimit: s
        ? {
            $typeName: "llmgw.ledger.v1.RateLimitStatus",
            limitRequests: BigInt(s.limitRequests),
            remainingRequests: BigInt(s.remainingRequests),
            resetRequestsMs: BigInt(s.resetRequestsMs),
            limitTokens: BigInt(s.limitTokens),
            remainingTokens: BigInt(s.remainingTokens),
            resetTokensMs: BigInt(s.resetTokensMs),
            retryAfterMs: BigInt(res.rateLimited?.retryAfterMs ?? 0),
            refusedBy: res.rateLimited?.refusedBy ?? "",
          }
        : undefined,
    };
    return out;
  }

  setRateLimits(req: Parameters<Impl["setRateLimits"]>[0]) {
    return this.accessOrFail().setRateLimits(req);
  }

  listRateLimits(req: Parameters<Impl["listRateLimits"]>[0]) {
    return this.accessOrFail().listRateLimits(req);
  }

  listRefusals(req: Parameters<Impl["listRefusals"]>[0]) {
    return this.accessOrFail().listRefusals(req);
  }

  private accessOrFail(): AccessRpcs {
    if (!this.access) throw new ConnectError("rate limits are not configured on this ledger", Code.Unimplemented);
    return this.access;
  }

  async settleBudget(req: Parameters<Impl["settleBudget"]>[0]) {
    if (req.actualUsd && !USD.test(req.actualUsd)) throw new ConnectError("actual_usd must be a non-negative decimal USD string", Code.InvalidArgument);
    await this.budgets.settle(req.reservationId, req.actualUsd || undefined);
    return {};
  }

  async setBudget(req: Parameters<Impl["setBudget"]>[0]) {
    const b = req.budget;
    if (!b?.tenantId) throw new ConnectError("budget.tenant_id is required", Code.InvalidArgument);
    if (b.period !== "day" && b.period !== "month") throw new ConnectError("budget.period must be day or month", Code.InvalidArgument);
    for (const v of [b.softLimitUsd, b.hardLimitUsd]) {
      if (v && !USD.test(v)) throw new ConnectError("budget limits must be non-negative decimal USD strings", Code.InvalidArgument);
    }
    await this.limits.set({ tenantId: b.tenantId, keyId: b.keyId, period: b.period, softUsd: b.softLimitUsd || undefined, hardUsd: b.hardLimitUsd || undefined });
    return {};
  }

  async listBudgets(req: Parameters<Impl["listBudgets"]>[0]) {
    const rows = await this.limits.list(req.tenantId || undefined);
    return { budgets: rows.map((r) => ({ tenantId: r.tenantId, keyId: r.keyId, period: r.period, softLimitUsd: r.softUsd ?? "", hardLimitUsd: r.hardUsd ?? "" })) };
  }

  putResponse(req: Parameters<Impl["putResponse"]>[0]) {
    return this.responses.put(req);
  }

  getResponse(req: Parameters<Impl["getResponse"]>[0]) {
    return this.responses.get(req);
  }

  deleteResponse(req: Parameters<Impl["deleteResponse"]>[0]) {
    return this.responses.delete(req);
  }

  putBatchFile(req: Parameters<Impl["putBatchFile"]>[0]) {
    return this.batchRpcs().putFile(req);
  }

  getBatchFile(req: Parameters<Impl["getBatchFile"]>[0]) {
    return this.batchRpcs().getFile(req);
  }

  listBatchFiles(req: Parameters<Impl["listBatchFiles"]>[0]) {
    return this.batchRpcs().listFiles(req);
  }

  deleteBatchFile(req: Parameters<Impl["deleteBatchFile"]>[0]) {
    return this.batchRpcs().deleteFile(req);
  }

  createBatchJob(req: Parameters<Impl["createBatchJob"]>[0]) {
    return this.batchRpcs().createJob(req);
  }

  getBatchJob(req: Parameters<Impl["getBatchJob"]>[0]) {
    return this.batchRpcs().getJob(req);
  }

  listBatchJobs(req: Parameters<Impl["listBatchJobs"]>[0]) {
    return this.batchRpcs().listJobs(req);
  }

  updateBatchJob(req: Parameters<Impl["updateBatchJob"]>[0]) {
    return this.batchRpcs().updateJob(req);
  }

  getBatchLines(req: Parameters<Impl["getBatchLines"]>[0]) {
    return this.batchRpcs().getLines(req);
  }

  updateBatchLines(req: Parameters<Impl["updateBatchLines"]>[0]) {
    return this.batchRpcs().updateLines(req);
  }

  putSubBatch(req: Parameters<Impl["putSubBatch"]>[0]) {
    return this.batchRpcs().putSubBatch(req);
  }

  listSubBatches(req: Parameters<Impl["listSubBatches"]>[0]) {
    return this.batchRpcs().listSubBatches(req);
  }

  acquireLease(req: Parameters<Impl["acquireLease"]>[0]) {
    return this.batchRpcs().lease(req);
  }

  async getSpend(req: Parameters<Impl["getSpend"]>[0]) {
    const since = new Date(req.since || 0);
    if (Number.isNaN(since.getTime())) throw serviceError("since must be an ISO-8601 time", Code.InvalidArgument, { param: "since" });
    if (req.groupBy && !GROUP_BYS.includes(req.groupBy as GroupBy)) throw serviceError(`group_by must be one of ${GROUP_BYS.join(", ")}`, Code.InvalidArgument, { param: "group_by" });
    const r = await this.spend.query({ tenantId: req.tenantId || undefined, since, groupBy: (req.groupBy || undefined) as GroupBy | undefined });
    return { total: row(r.total), rows: r.rows.map(row) };
  }
}

function row(r: SpendRow) {
  return {
    group: r.group,
    requests: BigInt(r.requests),
    costUsd: r.cost_usd,
    baselineUsd: r.baseline_usd,
    savingsUsd: r.savings_usd,
    cacheSavingsUsd: r.cache_savings_usd,
    routingSavingsUsd: r.routing_savings_usd,
    cascadeSavingsUsd: r.cascade_savings_usd,
    batchSavingsUsd: r.batch_savings_usd,
  };
}

/** PostgreSQL (and PGlite) unique_violation. */
function isUniqueViolation(e: unknown): boolean {
  return typeof e === "object" && e !== null && (e as { code?: unknown }).code === "23505";
}
