// The pipeline's steps before execution, each small and over the one record: prepare, classify,
// look up the cache, route, reserve budget.
import type { ClassifyRequest, ClassifyResponse } from "#libs/gen/llmgw/classifier/v1/classifier_pb.ts";
import { RequestContextSchema, Tier } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { asMessage } from "#libs/rpc/wire.ts";
import { CacheControl, type LookupResponse } from "#libs/gen/llmgw/cache/v1/cache_pb.ts";
import { Decimal } from "decimal.js";
import { errors, GatewayError } from "#libs/errors/openai-error.ts";
import { tierName } from "#libs/rpc/tier.ts";
import { countPromptTokens } from "#libs/tokens/count.ts";
import type { BudgetStates } from "../budget-states.ts";
import { budgetFailure } from "./budget-outage.ts";
import type { EdgeDeps } from "../deps.ts";
import { requestFacts } from "../messages.ts";
import type { EdgeMetrics } from "../metrics.ts";
import { countRefusal, rateLimitError } from "../rate-limit-headers.ts";
import type { ChatCall, ChatRecord } from "./record.ts";
import type { Config } from "#libs/config/schema.ts";

const errMsg = (e: unknown): string => (e instanceof Error ? e.message : String(e));

const widestOutput = new WeakMap<Config, number>();

/**
 * A max_tokens past what the model (or, for an alias, any chat model) can write is the client's error,
 * told as such before a budget reservation could refuse it as too expensive. The router checks the
 * same per candidate.
 */
function checkOutputLimit(config: Config, body: ChatCall["body"], modelLimit: number | undefined, asked: number): void {
  let limit = modelLimit ?? widestOutput.get(config);
  if (limit === undefined) {
    limit = Math.max(0, ...Object.values(config.models).filter((m) => m.kind !== "embedding").map((m) => m.max_output_tokens));
    widestOutput.set(config, limit);
  }
  if (asked <= limit) return;
  const param = body.max_completion_tokens != null ? "max_completion_tokens" : "max_tokens";
  const which = modelLimit !== undefined ? `${body.model} writes at most ${limit} completion tokens` : `no configured model writes more than ${limit} completion tokens`;
  throw errors.badRequest(`${param} is too large: ${asked}. ${which}.`, param, "invalid_value");
}

/** Reads the request once: the facts every later step decides on. */
export function prepare(deps: EdgeDeps, call: ChatCall): Omit<ChatRecord, "cls" | "cacheKey" | "cacheOutcome" | "reserved"> {
  const body = call.body;
  const alias = deps.config.edge.aliases.includes(body.model);
  const modelCfg = deps.config.models[body.model];
  if (!alias && !modelCfg) throw errors.modelNotFound(body.model);
  if (modelCfg?.kind === "embedding") throw errors.badRequest(`'${body.model}' is an embedding model; call POST /v1/embeddings with it.`, "model", "model_not_chat");
  const facts = requestFacts(body, modelCfg?.max_output_tokens ?? 1024);
  checkOutputLimit(deps.config, body, modelCfg?.max_output_tokens, facts.askedMaxTokens);
  let tokens: number | undefined;
  return {
    call,
    // A whole message: every request of the pipeline carries it, and create() takes a message as it is.
    ctx: { $typeName: "llmgw.common.v1.RequestContext", requestId: call.requestId, tenantId: call.auth.tenantId, keyId: call.auth.keyId, traceId: call.traceId },
    alias,
    facts,
    promptTokens: () => (tokens ??= countPromptTokens(facts.texts, exactAbove(deps.config)).tokens),
    // Written by a reservation made beside routing: a field from the start, not a shape change then.
    rateLimit: undefined,
  };
}

const smallestWindow = new WeakMap<EdgeDeps["config"], number>();
/**
 * Below the smallest context window in bytes, the byte count bounds the tokens and every model
 * fits the bound; above it the router's fit decision needs the exact count, so we tokenize.
 */
function exactAbove(config: EdgeDeps["config"]): number {
  let w = smallestWindow.get(config);
  if (w === undefined) {
    w = Math.min(16_384, ...Object.values(config.models).flatMap((m) => (m.kind === "embedding" ? [] : [m.context_window])));
    smallestWindow.set(config, w);
  }
  return w;
}

export function classify(deps: EdgeDeps, rec: Pick<ChatRecord, "ctx" | "facts">): Promise<ClassifyResponse> {
  return deps.clients.classifier.classify(classifyRequest(rec));
}

export function classifyRequest(rec: Pick<ChatRecord, "ctx" | "facts">): ClassifyRequest {
  const f = rec.facts;
  // Whole messages here and below: the in-process client takes them as they are (no create() per call).
  return {
    $typeName: "llmgw.classifier.v1.ClassifyRequest",
    context: asMessage(RequestContextSchema, rec.ctx),
    messages: f.messages,
    hasTools: f.hasTools,
    jsonMode: f.jsonMode,
    maxTokens: f.maxTokens,
  };
}

/** The cache key: the answer is valid for this tier (alias) or model, these messages and parameters. */
export function cacheKeyOf(rec: Pick<ChatRecord, "call" | "ctx" | "alias" | "facts">, cls: ClassifyResponse): ChatRecord["cacheKey"] {
  return {
    context: rec.ctx,
    scope: rec.alias ? tierName(cls.tier) : rec.call.body.model,
    messages: rec.facts.messages,
    paramsJson: canonicalParams(rec.call.body),
    category: cls.category,
    control: rec.call.cacheControl,
  };
}

/** Best effort: a cache outage costs money, never an answer. Undefined when the lookup is skipped. */
export async function lookupCache(deps: EdgeDeps, metrics: EdgeMetrics, rec: ChatRecord): Promise<LookupResponse | undefined> {
  const control = rec.call.cacheControl;
  if (control === CacheControl.OFF || control === CacheControl.REFRESH) return undefined;
  try {
    return await deps.clients.cache.lookup({ key: rec.cacheKey });
  } catch (e) {
    metrics.degraded.inc({ dependency: "cache" });
    deps.logger.warn({ err: errMsg(e), requestId: rec.call.requestId }, "cache lookup failed");
    return undefined;
  }
}

/** The router decides capability and context fit (on the one prompt estimate), candidates, cascade and shadow tests. */
export async function route(deps: EdgeDeps, budgets: BudgetStates, rec: Omit<ChatRecord, "cls" | "cacheKey" | "cacheOutcome" | "reserved">, cls: ClassifyResponse | undefined): Promise<NonNullable<ChatRecord["route"]>> {
  const { call, facts } = rec;
  const r = await deps.clients.router.route({
    $typeName: "llmgw.router.v1.RouteRequest",
    context: asMessage(RequestContextSchema, rec.ctx),
    requestedModel: call.body.model,
    // A named model is routed without its class (it is not needed to honour it).
    tier: cls?.tier ?? Tier.UNSPECIFIED,
    category: cls?.category ?? "",
    inputTokens: BigInt(rec.promptTokens()),
    maxTokens: facts.askedMaxTokens,
    requiredCapabilities: facts.capabilities,
    sessionId: call.sessionId,
    strategy: "",
    stream: call.body.stream === true,
    budgetState: budgets.get(budgetKey(rec)),
  });
  if (r.candidates.length === 0) {
    throw errors.badRequest(`No configured model can serve this request (${r.reasons.join("; ") || "context window or capabilities"}).`, "model", "no_capable_model");
  }
  return r;
}

/**
 * Reserves the worst case: the dearest candidate (fallbacks may land there), plus for a cascade the
 * dearest escalation too, since an escalated request pays for both calls. When the reservation fails
 * budgets.outage_mode decides: false (admitted, counted as degraded) or a 503; throws 429 past a hard limit.
 */
export async function reserve(
  deps: EdgeDeps,
  metrics: EdgeMetrics,
  budgets: BudgetStates,
  rec: Pick<ChatRecord, "call" | "promptTokens" | "facts" | "rateLimit">,
  models: { candidates: readonly string[]; escalation: readonly string[] },
): Promise<boolean> {
  const at = new Date();
  const { pricing } = deps;
  const tokens = rec.promptTokens();
  const max = rec.facts.maxTokens;
  // worstCaseUsd gives Decimal's toFixed() form already: only a cascade's sum needs a Decimal.
  const first = pricing.worstCaseUsd(models.candidates, tokens, max, at);
  const amountUsd = models.escalation.length > 0 ? new Decimal(first).plus(pricing.worstCaseUsd(models.escalation, tokens, max, at)).toFixed() : first;
  const { call } = rec;
  try {
    // The prompt estimate is also what token rate limits charge (the ledger corrects it with usage).
    const res = await deps.clients.ledger.reserveBudget({
      $typeName: "llmgw.ledger.v1.ReserveBudgetRequest",
      reservationId: call.requestId,
      tenantId: call.auth.tenantId,
      keyId: call.auth.keyId,
      amountUsd,
      tokens: BigInt(tokens),
    });
    if (res.rateLimit) rec.rateLimit = res.rateLimit;
    if (res.rateLimited) {
      countRefusal(deps.registry, res.rateLimit?.refusedBy ?? "");
      throw rateLimitError(res.message, res.rateLimit);
    }
    budgets.set(budgetKey(rec), res.state);
    if (!res.admitted) throw errors.quotaExceeded(res.message || "Budget exhausted for this key or tenant.");
    return true;
  } catch (e) {
    if (e instanceof GatewayError) throw e;
    metrics.degraded.inc({ dependency: "budget" });
    const refusal = budgetFailure(deps.config.budgets);
    deps.logger.warn({ err: errMsg(e), requestId: call.requestId, mode: deps.config.budgets.outage_mode }, refusal ? "budget reservation failed; refusing" : "budget reservation failed; admitting");
    if (refusal) throw refusal;
    return false;
  }
}

/** Gives a reservation back when the request ends without a RequestCompleted (which would settle it). */
export async function release(deps: EdgeDeps, reservationId: string): Promise<void> {
  try {
    await deps.clients.ledger.settleBudget({ reservationId, actualUsd: "" });
  } catch (e) {
    deps.logger.warn({ err: errMsg(e), reservationId }, "budget release failed; reservation expires by TTL");
  }
}

/** The models a route may call, for the worst-case reservation (a cascade pays both calls). */
export function reservedModels(r: NonNullable<ChatRecord["route"]>): { candidates: string[]; escalation: string[] } {
  return { candidates: r.candidates.map((c) => c.model), escalation: r.cascade ? r.escalation.map((c) => c.model) : [] };
}

const budgetKey = (rec: Pick<ChatRecord, "call">): string => `${rec.call.auth.tenantId}/${rec.call.auth.keyId}`;

const ANSWER_PARAMS = new Set(["frequency_penalty", "logit_bias", "max_completion_tokens", "max_tokens", "n", "presence_penalty", "reasoning_effort", "response_format", "seed", "stop", "temperature", "tool_choice", "tools", "top_p"]);

/** Everything besides the messages that changes the answer, with stable key order. */
export function canonicalParams(body: ChatCall["body"]): string {
  const src = body as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  // The body's few keys against the set, rather than fourteen lookups of mostly absent keys (stableStringify sorts).
  for (const k in src) if (ANSWER_PARAMS.has(k) && src[k] !== undefined && src[k] !== null) out[k] = src[k];
  return stableStringify(out);
}

function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}
