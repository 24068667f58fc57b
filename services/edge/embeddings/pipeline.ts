// One embeddings request: check the model → exact cache (per tenant; key = model, dimensions, input)
// → reserve the worst case → the executor's Embed → RequestCompleted (the ledger prices it with the
// model's embedding price and settles the reservation) and the cache store. No classification and no
// routing: vectors of two models live in different spaces, so the named model is the only candidate.
import { createHash } from "node:crypto";
import type OpenAI from "openai";
import { CacheControl } from "#libs/gen/llmgw/cache/v1/cache_pb.ts";
import { Tier, type Usage } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import type { EmbedResponse } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { subjects } from "#libs/bus/subjects.ts";
import { errors, GatewayError } from "#libs/errors/openai-error.ts";
import { openAIUsageToProto } from "#libs/pricing/usage-openai.ts";
import { canonicalJson } from "#services/cache/domain/keys.ts";
import { requestCompletedBytes } from "../accounting.ts";
import type { AuthContext } from "../auth.ts";
import type { EdgeDeps } from "../deps.ts";
import { failureToError, type RunResult } from "../execution.ts";
import type { EventOutbox } from "../outbox.ts";
import type { CacheOutcome } from "../chat/record.ts";
import { tokenBound, type EmbeddingsRequest } from "./validate.ts";
import { toClient, toStored, type StoredEmbeddings } from "./vectors.ts";
import type { EmbeddingsMetrics } from "./metrics.ts";
import { budgetFailure } from "../chat/budget-outage.ts";
import { countRefusal, rateLimitError } from "../rate-limit-headers.ts";

export interface EmbeddingsCall {
  requestId: string;
  traceId: string;
  receivedAt: Date;
  /** performance.now() at arrival. */
  t0: number;
  auth: AuthContext;
  body: EmbeddingsRequest;
  cacheControl: CacheControl;
  signal?: AbortSignal;
}

export interface EmbeddingsResult {
  headers: Record<string, string>;
  body: OpenAI.CreateEmbeddingResponse;
}

/** Cache category (TTL) of embeddings: see the cache config's ttlSeconds. */
export const EMBEDDINGS_CATEGORY = "embeddings";
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const errMsg = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class EmbeddingsPipeline {
  constructor(
    private readonly deps: EdgeDeps,
    private readonly outbox: EventOutbox,
    private readonly metrics: EmbeddingsMetrics,
  ) {}

  async handle(call: EmbeddingsCall): Promise<EmbeddingsResult> {
    const { deps } = this;
    const model = this.checkModel(call.body.model);
    this.checkDimensions(model, call.body.dimensions);
    const ctx = { requestId: call.requestId, tenantId: call.auth.tenantId, keyId: call.auth.keyId, traceId: call.traceId };
    const key = {
      context: ctx,
      scope: `embeddings:${model}`,
      messages: [],
      // The input's digest rather than the input: a 2048-text batch need not cross the mesh twice.
      paramsJson: canonicalJson({ dimensions: call.body.dimensions ?? null, input_sha256: createHash("sha256").update(canonicalJson(call.body.input)).digest("hex") }),
      category: EMBEDDINGS_CATEGORY,
      control: call.cacheControl,
      exactOnly: true,
    };
    const format = call.body.encoding_format ?? "float";
    const reads = call.cacheControl !== CacheControl.OFF && call.cacheControl !== CacheControl.REFRESH;
    let outcome: CacheOutcome = "bypass";
    if (reads) {
      try {
        const hit = await deps.clients.cache.lookup({ key });
        outcome = hit.hit ? "hit_exact" : "miss";
        if (hit.hit) {
          const stored = JSON.parse(hit.completionJson) as StoredEmbeddings;
          const usage = usageOf(stored);
          const totalMs = performance.now() - call.t0;
          const full = deps.pricing.cost(model, usage, new Date());
          this.complete(call, { model, provider: "cache", cacheOutcome: outcome, status: 200, errorCode: "", runs: [], answerUsage: usage, totalMs, overheadMs: totalMs, reserved: false });
          this.metrics.requests.inc({ status: "200", model, cache: outcome });
          return { headers: headers(call, model, "hit-exact", totalMs, "0", full.usd, full.usd), body: toClient(stored, format) };
        }
      } catch (e) {
        // A cache outage costs money, never an answer.
        this.metrics.degraded.inc({ dependency: "cache" });
        deps.logger.warn({ err: errMsg(e), requestId: call.requestId }, "embeddings cache lookup failed");
      }
    }
    const reserved = await this.reserve(call, model);
    const preMs = performance.now() - call.t0;
    const { model: _m, encoding_format: _f, ...forwarded } = call.body;
    let res: EmbedResponse;
    try {
      res = await deps.clients.executor.embed({ context: ctx, model, requestJson: encoder.encode(JSON.stringify(forwarded)) }, { signal: call.signal });
    } catch (e) {
      // No outcome: no RequestCompleted will settle the reservation, so give it back now.
      if (reserved) void this.release(call.requestId);
      throw e;
    }
    const totalMs = performance.now() - call.t0;
    if (res.failure || !res.summary) {
      const err = res.failure ? failureToError(res.failure) : errors.badGateway("The provider returned no embeddings.");
      const attempts = res.failure?.attempts ?? [];
      this.complete(call, { model, provider: attempts.at(-1)?.provider ?? "", cacheOutcome: outcome, status: err.status, errorCode: err.code ?? "", runs: [{ attempts, purpose: "primary" }], totalMs, overheadMs: preMs, reserved });
      this.metrics.requests.inc({ status: String(err.status), model, cache: outcome });
      throw err;
    }
    const summary = res.summary;
    const runs: RunResult[] = [{ attempts: summary.attempts, purpose: "primary", summary }];
    let stored: StoredEmbeddings;
    try {
      stored = toStored(JSON.parse(decoder.decode(res.responseJson)), model);
    } catch (e) {
      // The provider was paid for an answer we cannot read: still billed, then a 502.
      this.complete(call, { model, provider: summary.provider, cacheOutcome: outcome, status: 502, errorCode: "upstream_bad_response", runs, ...(summary.usage ? { answerUsage: summary.usage } : {}), totalMs, overheadMs: preMs, reserved });
      throw errors.badGateway(`The provider's embeddings answer could not be read: ${errMsg(e)}`, "upstream_bad_response");
    }
    const usage = summary.usage ?? usageOf(stored);
    const overheadMs = Math.max(0, totalMs - Number(summary.latencyMs));
    this.complete(call, { model, provider: summary.provider, cacheOutcome: outcome, status: 200, errorCode: "", runs, answerUsage: usage, totalMs, overheadMs, reserved });
    if (call.cacheControl !== CacheControl.OFF && call.cacheControl !== CacheControl.NO_STORE) {
      deps.clients.cache.store({ key, completionJson: JSON.stringify(stored), model }).catch((e: unknown) => {
        this.metrics.degraded.inc({ dependency: "cache" });
        deps.logger.warn({ err: errMsg(e), requestId: call.requestId }, "embeddings cache store failed");
      });
    }
    const cost = deps.pricing.cost(model, usage, new Date());
    this.metrics.requests.inc({ status: "200", model, cache: outcome });
    this.metrics.tokens.inc({ model }, Number(usage.inputTokens));
    const costHeader = cost.unpriced ? "0+unpriced" : cost.usd;
    return { headers: { ...headers(call, model, outcome, overheadMs, costHeader, cost.usd, "0"), ...(summary.attempts.length > 1 ? { "x-llmgw-route-reasons": `retried: ${summary.attempts.length - 1}` } : {}) }, body: toClient(stored, format) };
  }

  /** The named model, which must be a configured embedding model (aliases are refused: see the file comment). */
  private checkModel(model: string): string {
    const cfg = this.deps.config;
    if (cfg.edge.aliases.includes(model)) {
      const known = Object.entries(cfg.models).filter(([, m]) => m.kind === "embedding").map(([id]) => id);
      throw errors.badRequest(`'${model}' cannot be routed for embeddings: vectors of different models are not comparable, so name one (${known.join(", ") || "none configured"}).`, "model", "model_required");
    }
    const m = cfg.models[model];
    if (!m) throw errors.modelNotFound(model);
    if (m.kind !== "embedding") throw errors.badRequest(`'${model}' is a chat model, not an embedding model.`, "model", "model_not_embedding");
    return model;
  }

  /** `dimensions` shortens a model's vectors; past their native size the provider would refuse it. */
  private checkDimensions(model: string, dimensions: number | undefined): void {
    const native = this.deps.config.models[model]?.dimensions;
    if (dimensions !== undefined && native !== undefined && dimensions > native) {
      throw errors.badRequest(`'dimensions' is ${dimensions}; ${model} makes vectors of at most ${native}.`, "dimensions", "invalid_value");
    }
  }

  /** Worst case = every input byte a token at the input rate (embeddings have no output). Throws 429 past a hard limit. */
  private async reserve(call: EmbeddingsCall, model: string): Promise<boolean> {
    const { deps } = this;
    const bound = tokenBound(call.body.input);
    const worst = deps.pricing.worstCaseUsd([model], bound, 0, new Date());
    try {
      // The token bound is also what token rate limits charge (the ledger corrects it with usage).
      const res = await deps.clients.ledger.reserveBudget({ reservationId: call.requestId, tenantId: call.auth.tenantId, keyId: call.auth.keyId, amountUsd: worst, tokens: BigInt(bound) });
      if (res.rateLimited) {
        countRefusal(deps.registry, res.rateLimit?.refusedBy ?? "");
        throw rateLimitError(res.message, res.rateLimit);
      }
      if (!res.admitted) throw errors.quotaExceeded(res.message || "Budget exhausted for this key or tenant.");
      return true;
    } catch (e) {
      if (e instanceof GatewayError) throw e;
      this.metrics.degraded.inc({ dependency: "budget" });
      // As for chat: budgets.outage_mode decides whether an unchecked request is admitted.
      const refusal = budgetFailure(deps.config.budgets);
      deps.logger.warn({ err: errMsg(e), requestId: call.requestId, mode: deps.config.budgets.outage_mode }, refusal ? "budget reservation failed; refusing" : "budget reservation failed; admitting");
      if (refusal) throw refusal;
      return false;
    }
  }

  private async release(reservationId: string): Promise<void> {
    try {
      await this.deps.clients.ledger.settleBudget({ reservationId, actualUsd: "" });
    } catch (e) {
      this.deps.logger.warn({ err: errMsg(e), reservationId }, "budget release failed; reservation expires by TTL");
    }
  }

  /** RequestCompleted: the ledger records and prices it, and settles (or releases) the reservation. */
  private complete(
    call: EmbeddingsCall,
    o: { model: string; provider: string; cacheOutcome: CacheOutcome; status: number; errorCode: string; runs: RunResult[]; answerUsage?: Usage; totalMs: number; overheadMs: number; reserved: boolean },
  ): void {
    const bytes = requestCompletedBytes({
      context: { requestId: call.requestId, tenantId: call.auth.tenantId, keyId: call.auth.keyId, traceId: call.traceId },
      receivedAt: call.receivedAt,
      requestedModel: call.body.model,
      tier: Tier.UNSPECIFIED,
      category: EMBEDDINGS_CATEGORY,
      confidence: 0,
      model: o.model,
      provider: o.provider,
      cacheOutcome: o.cacheOutcome,
      cascaded: false,
      escalated: false,
      httpStatus: o.status,
      errorCode: o.errorCode,
      latencyMs: o.totalMs,
      overheadMs: o.overheadMs,
      stream: false,
      // The named model is its own baseline: a cache hit saves its whole price, a call saves nothing.
      baselineModel: o.model,
      runs: o.runs,
      ...(o.answerUsage ? { answerUsage: o.answerUsage } : {}),
      budgetReserved: o.reserved,
    });
    this.outbox.publish(subjects(this.deps.events.names).requestCompleted, bytes, call.requestId);
  }
}

function usageOf(stored: StoredEmbeddings): Usage {
  return openAIUsageToProto({ prompt_tokens: stored.usage.prompt_tokens, completion_tokens: 0 });
}

function headers(call: EmbeddingsCall, model: string, cache: string, overheadMs: number, costUsd: string, baselineUsd: string, savingsUsd: string): Record<string, string> {
  return {
    "x-llmgw-request-id": call.requestId,
    "x-llmgw-model": model,
    "x-llmgw-cache": cache,
    "x-llmgw-cost-usd": costUsd,
    "x-llmgw-baseline-usd": baselineUsd,
    "x-llmgw-savings-usd": savingsUsd,
    "x-llmgw-overhead-ms": overheadMs.toFixed(3),
  };
}
