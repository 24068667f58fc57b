// The hot path of one chat completion: classify → cache → route → reserve budget → execute
// (cascade when the router asks) → answer; accounting, cache writes and events happen after.
import type OpenAI from "openai";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { CacheControl, type CacheKeySchema, type LookupResponse } from "#libs/gen/llmgw/cache/v1/cache_pb.ts";
import { Tier, type RequestContextSchema } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { ShadowTestRequestedSchema } from "#libs/gen/llmgw/events/v1/events_pb.ts";
import type { ClassifyResponse } from "#libs/gen/llmgw/classifier/v1/classifier_pb.ts";
import type { RouteResponse } from "#libs/gen/llmgw/router/v1/router_pb.ts";
import { toBinary } from "@bufbuild/protobuf";
import { Decimal } from "decimal.js";
import { errors, GatewayError } from "#libs/errors/openai-error.ts";
import { completionToChunks } from "#libs/openai/replay.ts";
import { verifyAnswer } from "#libs/quality/verify.ts";
import { tierName } from "#libs/rpc/tier.ts";
import { countPromptTokens } from "#libs/tokens/count.ts";
import { subjects } from "#libs/bus/subjects.ts";
import { attemptsCost, requestCompletedBytes, sumUsage, type CompletedInit } from "./accounting.ts";
import type { AuthContext } from "./auth.ts";
import type { EdgeDeps } from "./deps.ts";
import { failureToError, isStreamStart, runNonStreaming, startStreaming, type RunResult } from "./execution.ts";
import { requestFacts, type RequestFacts } from "./messages.ts";
import type { EdgeMetrics } from "./metrics.ts";
import type { EventOutbox } from "./outbox.ts";
import { BudgetStates } from "./budget-states.ts";

export interface ChatCall {
  requestId: string;
  traceId: string;
  receivedAt: Date;
  /** performance.now() when the request arrived, for overhead. */
  t0: number;
  auth: AuthContext;
  body: OpenAI.Chat.ChatCompletionCreateParams;
  cacheControl: CacheControl;
  sessionId: string;
  signal?: AbortSignal;
}

export type ChatResult =
  | { type: "json"; headers: Record<string, string>; body: OpenAI.Chat.ChatCompletion }
  | { type: "stream"; headers: Record<string, string>; chunks: AsyncIterable<string> };

type Ctx = MessageInitShape<typeof RequestContextSchema>;
const encoder = new TextEncoder();

export class ChatPipeline {
  private readonly budgets = new BudgetStates();
  private readonly subjects: ReturnType<typeof subjects>;

  constructor(
    private readonly deps: EdgeDeps,
    private readonly outbox: EventOutbox,
    private readonly metrics: EdgeMetrics,
  ) {
    this.subjects = subjects(deps.events.names);
  }

  async handle(call: ChatCall): Promise<ChatResult> {
    const { config, clients } = this.deps;
    const body = call.body;
    const alias = config.edge.aliases.includes(body.model);
    const modelCfg = config.models[body.model];
    if (!alias && !modelCfg) throw errors.modelNotFound(body.model);
    const facts = requestFacts(body, modelCfg?.max_output_tokens ?? 1024);
    const ctx: Ctx = { requestId: call.requestId, tenantId: call.auth.tenantId, keyId: call.auth.keyId, traceId: call.traceId };

    const cls = await clients.classifier.classify({ context: ctx, messages: facts.messages, hasTools: facts.hasTools, jsonMode: facts.jsonMode, maxTokens: facts.maxTokens });

    const cacheKey: MessageInitShape<typeof CacheKeySchema> = {
      context: ctx,
      scope: alias ? tierName(cls.tier) : body.model,
      messages: facts.messages,
      paramsJson: canonicalParams(body),
      category: cls.category,
      control: call.cacheControl,
    };
    const lookup = await this.cacheLookup(cacheKey, call.cacheControl);
    if (lookup?.hit) return this.answerFromCache(call, ctx, cls, lookup, alias);

    const prompt = countPromptTokens(facts.texts);
    const budgetKey = `${call.auth.tenantId}/${call.auth.keyId}`;
    const route = await clients.router.route({
      context: ctx,
      requestedModel: body.model,
      tier: cls.tier,
      category: cls.category,
      inputTokens: BigInt(prompt.tokens),
      maxTokens: facts.maxTokens,
      requiredCapabilities: facts.capabilities,
      sessionId: call.sessionId,
      stream: body.stream === true,
      budgetState: this.budgets.get(budgetKey),
    });
    if (route.candidates.length === 0) {
      throw errors.badRequest(`No configured model can serve this request (${route.reasons.join("; ") || "context window or capabilities"}).`, "model", "no_capable_model");
    }

    // Worst case: the dearest candidate (fallbacks may land there), plus for a cascade the dearest
    // escalation model too, since an escalated request pays for both calls.
    const at = new Date();
    const pricing = this.deps.pricing;
    let worst = new Decimal(pricing.worstCaseUsd(route.candidates.map((c) => c.model), prompt.tokens, facts.maxTokens, at));
    if (route.cascade) worst = worst.plus(pricing.worstCaseUsd(route.escalation.map((c) => c.model), prompt.tokens, facts.maxTokens, at));
    const reserved = await this.reserve(call, budgetKey, worst.toFixed());

    const common = { call, ctx, cls, route, facts, alias, cacheKey, reserved, cacheOutcome: lookup ? ("miss" as const) : ("bypass" as const) };
    try {
      return body.stream === true ? await this.executeStreaming(common) : await this.executeJson(common);
    } catch (e) {
      if (reserved) void this.settle(call.requestId, "");
      throw e;
    }
  }

  private async cacheLookup(key: MessageInitShape<typeof CacheKeySchema>, control: CacheControl): Promise<LookupResponse | undefined> {
    if (control === CacheControl.OFF || control === CacheControl.REFRESH) return undefined;
    try {
      return await this.deps.clients.cache.lookup({ key });
    } catch (e) {
      // Best effort: a cache outage costs money, never an answer.
      this.metrics.degraded.inc({ dependency: "cache" });
      this.deps.logger.warn({ err: errMsg(e), requestId: key.context?.requestId }, "cache lookup failed");
      return undefined;
    }
  }

  private async reserve(call: ChatCall, budgetKey: string, amountUsd: string): Promise<boolean> {
    try {
      const r = await this.deps.clients.ledger.reserveBudget({ reservationId: call.requestId, tenantId: call.auth.tenantId, keyId: call.auth.keyId, amountUsd });
      this.budgets.set(budgetKey, r.state);
      if (!r.admitted) throw errors.quotaExceeded(r.message || "Budget exhausted for this key or tenant.");
      return true;
    } catch (e) {
      if (e instanceof GatewayError) throw e;
      // Budget store down: admit (fail open) and count it; the ledger still records the spend.
      this.metrics.degraded.inc({ dependency: "budget" });
      this.deps.logger.warn({ err: errMsg(e), requestId: call.requestId }, "budget reservation failed; admitting");
      return false;
    }
  }

  private async settle(reservationId: string, actualUsd: string): Promise<void> {
    try {
      await this.deps.clients.ledger.settleBudget({ reservationId, actualUsd });
    } catch (e) {
      this.deps.logger.warn({ err: errMsg(e), reservationId }, "budget settle failed; reservation expires by TTL");
    }
  }

  private async executeJson(p: Pipe): Promise<ChatResult> {
    const { call, ctx, route } = p;
    const requestJson = encoder.encode(JSON.stringify(call.body));
    const runs: RunResult[] = [];
    const first = await runNonStreaming(this.deps.clients, { context: ctx, candidates: route.candidates, requestJson, stream: false, purpose: route.cascade ? "cascade_first" : "primary", signal: call.signal });
    runs.push(first);
    let final = first;
    let escalated = false;
    if (route.cascade && first.completion && route.escalation.length > 0) {
      const choice = first.completion.choices[0];
      const verdict = verifyAnswer({
        request: { jsonMode: p.facts.jsonMode, hasTools: p.facts.hasTools },
        answer: {
          content: choice?.message.content ?? null,
          finishReason: choice?.finish_reason ?? "",
          toolCalls: (choice?.message.tool_calls ?? []).flatMap((t) => (t.type === "function" ? [{ name: t.function.name, arguments: t.function.arguments }] : [])),
        },
      });
      if (!verdict.ok) {
        escalated = true;
        this.metrics.escalations.inc({ from: first.summary?.model ?? "", to: route.escalation[0]?.model ?? "" });
        const second = await runNonStreaming(this.deps.clients, { context: ctx, candidates: route.escalation, requestJson, stream: false, purpose: "escalation", signal: call.signal });
        runs.push(second);
        if (second.completion) final = second;
        route.reasons.push(`escalated: ${verdict.failures.join(",")}`);
      }
    }
    const providerMs = runs.reduce((s, r) => s + Number(r.summary?.latencyMs ?? 0n), 0);
    const totalMs = performance.now() - call.t0;
    // Overhead = everything that is not provider time: our hops, classification, cache, routing.
    const overheadMs = Math.max(0, totalMs - providerMs);
    if (!final.completion || !final.summary) {
      const err = final.failure ? failureToError(final.failure) : errors.badGateway("The provider returned no answer.");
      this.finish(p, runs, { status: err.status, errorCode: err.code ?? "", escalated, overheadMs, totalMs, stream: false });
      throw err;
    }
    const { usd, unpriced } = attemptsCost(this.deps.pricing, runs.flatMap((r) => r.attempts), new Date());
    const completion = final.completion;
    const headers = this.headers(p, final.summary.model, overheadMs, { costUsd: usd.toFixed(), unpriced, cache: p.cacheOutcome });
    this.finish(p, runs, { status: 200, errorCode: "", escalated, overheadMs, totalMs, stream: false, costUsd: usd.toFixed(), completion });
    this.metrics.overhead.observe({ stream: "false" }, overheadMs / 1000);
    return { type: "json", headers, body: completion };
  }

  private async executeStreaming(p: Pipe): Promise<ChatResult> {
    const { call, ctx, route } = p;
    // Streams are not cascaded: verifying means buffering the whole answer, which throws away the
    // time-to-first-token the client asked for. They go to the tier's own candidates, unverified.
    const candidates = route.candidates;
    const requestJson = encoder.encode(JSON.stringify(call.body));
    const preMs = performance.now() - call.t0;
    const started = await startStreaming(this.deps.clients, { context: ctx, candidates, requestJson, stream: true, purpose: "primary", signal: call.signal });
    if (!isStreamStart(started)) {
      const err = started.failure ? failureToError(started.failure) : errors.badGateway("The provider returned an empty stream.");
      this.finish(p, [started], { status: err.status, errorCode: err.code ?? "", escalated: false, overheadMs: preMs, totalMs: performance.now() - call.t0, stream: true });
      throw err;
    }
    const model = started.model || (candidates[0]?.model ?? "");
    const headers = this.headers(p, model, preMs, { cache: p.cacheOutcome });
    this.metrics.overhead.observe({ stream: "true" }, preMs / 1000);
    started.done.then(
      (run) => {
        const { usd } = attemptsCost(this.deps.pricing, run.attempts, new Date());
        const status = run.failure ? run.failure.httpStatus || 502 : 200;
        this.finish(p, [run], { status, errorCode: run.failure?.code ?? "", escalated: false, overheadMs: preMs, totalMs: performance.now() - call.t0, stream: true, costUsd: usd.toFixed(), completion: run.completion });
      },
      (e: unknown) => this.deps.logger.error({ err: errMsg(e) }, "stream accounting failed"),
    );
    const stream = started;
    async function* withErrors(): AsyncGenerator<string> {
      yield* stream.chunks;
      // A failure after the first token can only be told in-band: OpenAI SDKs raise on an error event.
      const run = await stream.done;
      if (run.failure) yield JSON.stringify(failureToError(run.failure).toBody());
    }
    return { type: "stream", headers, chunks: withErrors() };
  }

  private answerFromCache(call: ChatCall, ctx: Ctx, cls: ClassifyResponse, hit: LookupResponse, alias: boolean): ChatResult {
    const cached = JSON.parse(hit.completionJson) as OpenAI.Chat.ChatCompletion;
    const completion: OpenAI.Chat.ChatCompletion = { ...cached, id: `chatcmpl-${call.requestId}`, created: Math.floor(Date.now() / 1000) };
    const totalMs = performance.now() - call.t0;
    const outcome = hit.layer === "semantic" ? "hit_semantic" : "hit_exact";
    const headers: Record<string, string> = {
      "x-llmgw-request-id": call.requestId,
      "x-llmgw-model": completion.model,
      "x-llmgw-tier": tierName(cls.tier),
      "x-llmgw-cache": outcome.replace("_", "-"),
      "x-llmgw-cache-similarity": hit.similarity.toFixed(4),
      "x-llmgw-cost-usd": "0",
      "x-llmgw-overhead-ms": totalMs.toFixed(3),
    };
    this.metrics.requests.inc({ status: "200", model: completion.model, tier: tierName(cls.tier), cache: outcome });
    const u = cached.usage;
    this.publishCompleted({
      context: ctx,
      receivedAt: call.receivedAt,
      requestedModel: call.body.model,
      tier: cls.tier,
      category: cls.category,
      confidence: cls.confidence,
      model: completion.model,
      provider: "cache",
      cacheOutcome: outcome,
      cascaded: false,
      escalated: false,
      httpStatus: 200,
      errorCode: "",
      latencyMs: totalMs,
      overheadMs: totalMs,
      stream: call.body.stream === true,
      baselineModel: alias ? this.deps.config.routing.reference_model : call.body.model,
      runs: [],
      answerUsage: u
        ? { $typeName: "llmgw.common.v1.Usage", inputTokens: BigInt(u.prompt_tokens - (u.prompt_tokens_details?.cached_tokens ?? 0)), cachedInputTokens: BigInt(u.prompt_tokens_details?.cached_tokens ?? 0), cacheWrite5mTokens: 0n, cacheWrite1hTokens: 0n, outputTokens: BigInt(u.completion_tokens), reasoningTokens: BigInt(u.completion_tokens_details?.reasoning_tokens ?? 0), estimated: false }
        : undefined,
    });
    if (call.body.stream === true) {
      const includeUsage = call.body.stream_options?.include_usage === true;
      const chunks = completionToChunks(completion, { includeUsage });
      return { type: "stream", headers, chunks: (async function* () { for (const c of chunks) yield JSON.stringify(c); })() };
    }
    return { type: "json", headers, body: completion };
  }

  private headers(p: Pipe, model: string, overheadMs: number, extra: { costUsd?: string; unpriced?: boolean; cache: string }): Record<string, string> {
    const h: Record<string, string> = {
      "x-llmgw-request-id": p.call.requestId,
      "x-llmgw-model": model,
      "x-llmgw-tier": tierName(p.route.tier || p.cls.tier),
      "x-llmgw-cache": extra.cache,
      "x-llmgw-overhead-ms": overheadMs.toFixed(3),
      "x-llmgw-route-reasons": p.route.reasons.join("; ").replace(/[^\x20-\x7e]/g, "?").slice(0, 512),
    };
    if (extra.costUsd !== undefined) h["x-llmgw-cost-usd"] = extra.unpriced ? `${extra.costUsd}+unpriced` : extra.costUsd;
    return h;
  }

  private finish(
    p: Pipe,
    runs: RunResult[],
    o: { status: number; errorCode: string; escalated: boolean; overheadMs: number; totalMs: number; stream: boolean; costUsd?: string; completion?: OpenAI.Chat.ChatCompletion },
  ): void {
    const last = runs.at(-1);
    const summary = last?.summary;
    const attempts = runs.flatMap((r) => r.attempts);
    const model = summary?.model ?? "";
    this.metrics.requests.inc({ status: String(o.status), model, tier: tierName(p.route.tier), cache: p.cacheOutcome });
    const usage = sumUsage(attempts);
    this.metrics.tokens.inc({ model, kind: "input" }, Number(usage.inputTokens));
    this.metrics.tokens.inc({ model, kind: "output" }, Number(usage.outputTokens));
    if (o.costUsd) this.metrics.costUsd.inc({ model }, Number(o.costUsd));
    if (p.reserved) void this.settle(p.call.requestId, o.status === 200 ? (o.costUsd ?? "0") : "");
    if (o.status === 200 && o.completion && p.call.cacheControl !== CacheControl.OFF && p.call.cacheControl !== CacheControl.NO_STORE) {
      const finish = o.completion.choices[0]?.finish_reason;
      if (finish === "stop") {
        this.deps.clients.cache.store({ key: p.cacheKey, completionJson: JSON.stringify(o.completion), model }).catch((e: unknown) => {
          this.metrics.degraded.inc({ dependency: "cache" });
          this.deps.logger.warn({ err: errMsg(e) }, "cache store failed");
        });
      }
    }
    this.publishCompleted({
      context: p.ctx,
      receivedAt: p.call.receivedAt,
      requestedModel: p.call.body.model,
      tier: p.route.tier || p.cls.tier,
      category: p.cls.category,
      confidence: p.cls.confidence,
      model,
      provider: summary?.provider ?? "",
      cacheOutcome: p.cacheOutcome,
      cascaded: p.route.cascade && !o.stream,
      escalated: o.escalated,
      httpStatus: o.status,
      errorCode: o.errorCode,
      latencyMs: o.totalMs,
      overheadMs: o.overheadMs,
      stream: o.stream,
      baselineModel: p.alias ? p.route.referenceModel || this.deps.config.routing.reference_model : p.call.body.model,
      runs,
      // The answer's own usage prices the baseline: what this answer would have cost on the reference model.
      answerUsage: summary?.usage,
    });
    this.maybeShadow(p, o.completion, model);
  }

  private publishCompleted(e: CompletedInit): void {
    this.outbox.publish(this.subjects.requestCompleted, requestCompletedBytes(e), e.context.requestId ?? "");
  }

  /** A sample of expensive answers is replayed on the cheapest MEDIUM model by the evaluator. */
  private maybeShadow(p: Pipe, completion: OpenAI.Chat.ChatCompletion | undefined, servedModel: string): void {
    const rate = this.deps.config.edge.shadow_sample_rate;
    if (!completion || rate <= 0 || p.route.tier !== Tier.HIGH) return;
    if ((this.deps.random ?? Math.random)() >= rate) return;
    const candidate = this.deps.config.routing.tiers.MEDIUM?.[0];
    if (!candidate || candidate === servedModel) return;
    const msg = create(ShadowTestRequestedSchema, {
      context: p.ctx,
      requestJson: encoder.encode(JSON.stringify(p.call.body)),
      servedModel,
      servedCompletionJson: encoder.encode(JSON.stringify(completion)),
      candidateModel: candidate,
      category: p.cls.category,
      tier: p.route.tier,
    });
    this.outbox.publish(this.subjects.shadowRequested, toBinary(ShadowTestRequestedSchema, msg), `shadow:${p.call.requestId}`);
  }
}

interface Pipe {
  call: ChatCall;
  ctx: Ctx;
  cls: ClassifyResponse;
  route: RouteResponse;
  facts: RequestFacts;
  alias: boolean;
  cacheKey: MessageInitShape<typeof CacheKeySchema>;
  reserved: boolean;
  cacheOutcome: "miss" | "bypass";
}

/** Everything besides the messages that changes the answer, with stable key order. */
export function canonicalParams(body: OpenAI.Chat.ChatCompletionCreateParams): string {
  const src = body as unknown as Record<string, unknown>;
  const keys = ["frequency_penalty", "logit_bias", "max_completion_tokens", "max_tokens", "n", "presence_penalty", "reasoning_effort", "response_format", "seed", "stop", "temperature", "tool_choice", "tools", "top_p"];
  const out: Record<string, unknown> = {};
  for (const k of keys) if (src[k] !== undefined && src[k] !== null) out[k] = src[k];
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

function errMsg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
