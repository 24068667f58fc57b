// Execution steps: a JSON answer (cascaded when the router asks: cheap model first, verified,
// escalated on failure), a stream (never cascaded), or an answer from the cache.
import type OpenAI from "openai";
import { errors } from "#libs/errors/openai-error.ts";
import { completionToChunks } from "#libs/openai/replay.ts";
import { openAIUsageToProto } from "#libs/pricing/usage-openai.ts";
import { verifyAnswer, verifyOptionsFor } from "#libs/quality/verify.ts";
import { jsonBytes } from "#libs/rpc/json-bytes.ts";
import { tierName } from "#libs/rpc/tier.ts";
import { attemptsCost } from "../accounting.ts";
import type { EdgeDeps } from "../deps.ts";
import { failureToError, fallbackReasons, isStreamStart, runNonStreaming, startStreaming, type RunResult } from "../execution.ts";
import type { EdgeMetrics } from "../metrics.ts";
import type { ChatOutcome, ChatRecord, ChatResult } from "./record.ts";
import { gatewayInfo, savingsHeaders } from "./gateway-info.ts";
import { withTrailer } from "./stream-trailer.ts";

/** Hands the outcome to the after-answer hooks. */
export type Finish = (rec: ChatRecord, out: ChatOutcome) => void;

/**
 * A JSON answer can carry its body as bytes: the executor's completion JSON, which is what serializing
 * the parsed completion again would give (JSON.stringify of JSON.parse of JSON.stringify output is
 * the same text). The chat route sends these instead of serializing the answer a second time.
 */
export function answerBytes(result: ChatResult): Uint8Array | undefined {
  return result.type === "json" ? result.bodyJson : undefined;
}

export async function executeJson(deps: EdgeDeps, metrics: EdgeMetrics, rec: ChatRecord, finish: Finish): Promise<ChatResult> {
  const { call, ctx } = rec;
  const route = rec.route;
  if (!route) throw errors.internal();
  // In one process the executor takes call.body itself (jsonBytes): no parse of what was just serialized.
  const requestJson = jsonBytes(call.body);
  const runs: RunResult[] = [];
  const first = await runNonStreaming(deps.clients, { context: ctx, candidates: route.candidates, requestJson, stream: false, purpose: route.cascade ? "cascade_first" : "primary", signal: call.signal });
  runs.push(first);
  route.reasons.push(...fallbackReasons(first.attempts));
  let final = first;
  let escalated = false;
  if (route.cascade && first.completion && route.escalation.length > 0) {
    const verdict = verify(rec, first.completion);
    if (!verdict.ok) {
      escalated = true;
      metrics.escalations.inc({ from: first.summary?.model ?? "", to: route.escalation[0]?.model ?? "" });
      route.reasons.push(`escalated: ${verdict.failures.join(",")}`);
      try {
        const second = await runNonStreaming(deps.clients, { context: ctx, candidates: route.escalation, requestJson, stream: false, purpose: "escalation", signal: call.signal });
        runs.push(second);
        route.reasons.push(...fallbackReasons(second.attempts));
        if (second.completion) final = second;
      } catch (e) {
        // The cheap answer exists and its call is billed: serve and record it rather than lose both.
        deps.logger.warn({ err: e instanceof Error ? e.message : String(e), requestId: call.requestId }, "escalation call failed; serving the first answer");
        route.reasons.push("escalation failed");
      }
    }
  }
  let providerMs = 0;
  for (const r of runs) providerMs += Number(r.summary?.latencyMs ?? 0n);
  const totalMs = performance.now() - call.t0;
  // Overhead = everything that is not provider time: our hops, classification, cache, routing.
  const overheadMs = Math.max(0, totalMs - providerMs);
  const lastAttempt = final.attempts.at(-1);
  const base = {
    runs,
    escalated,
    overheadMs,
    totalMs,
    stream: false,
    // On a failure after calls, the last model tried names the request.
    model: final.summary?.model ?? lastAttempt?.model ?? "",
    provider: final.summary?.provider ?? lastAttempt?.provider ?? "",
    ...(final.summary?.usage ? { answerUsage: final.summary.usage } : {}),
  };
  if (!final.completion || !final.summary) {
    const err = final.failure ? failureToError(final.failure) : errors.badGateway("The provider returned no answer.");
    finish(rec, { ...base, status: err.status, errorCode: err.code ?? "" });
    throw err;
  }
  const { usd, unpriced } = attemptsCost(deps.pricing, runs.length === 1 ? first.attempts : runs.flatMap((r) => r.attempts), new Date());
  const completion = final.completion;
  const costUsd = usd.toFixed();
  const answerUsage = final.summary.usage;
  const headers = answerHeaders(rec, base.model, overheadMs, { costUsd, unpriced });
  Object.assign(headers, savingsHeaders(gatewayInfo(deps, rec, answerUsage ? { model: base.model, costUsd, unpriced, answerUsage } : { model: base.model, costUsd, unpriced })));
  const outcome: ChatOutcome = { runs, escalated, overheadMs, totalMs, stream: false, model: base.model, provider: base.provider, status: 200, errorCode: "", costUsd, completion };
  if (answerUsage) outcome.answerUsage = answerUsage;
  if (final.completionJson) outcome.completionJson = final.completionJson;
  finish(rec, outcome);
  metrics.overheadOf.json.observe(overheadMs / 1000);
  // Nothing changes the completion from here on (the hooks only read it).
  return final.completionJson ? { type: "json", headers, body: completion, bodyJson: final.completionJson } : { type: "json", headers, body: completion };
}

function verify(rec: ChatRecord, completion: OpenAI.Chat.ChatCompletion): { ok: boolean; failures: string[] } {
  const choice = completion.choices[0];
  return verifyAnswer(
    {
      request: { jsonMode: rec.facts.jsonMode, hasTools: rec.facts.hasTools },
      answer: {
        content: choice?.message.content ?? null,
        finishReason: choice?.finish_reason ?? "",
        toolCalls: (choice?.message.tool_calls ?? []).flatMap((t) => (t.type === "function" ? [{ name: t.function.name, arguments: t.function.arguments }] : [])),
      },
    },
    // Math answers show their work: a wrong step or an underived final answer escalates.
    verifyOptionsFor(rec.cls.category),
  );
}

/**
 * Streams are not cascaded: verifying means buffering the whole answer, which throws away the
 * time-to-first-token the client asked for. They go to the tier's own candidates, unverified.
 */
export async function executeStreaming(deps: EdgeDeps, metrics: EdgeMetrics, rec: ChatRecord, finish: Finish): Promise<ChatResult> {
  const { call, ctx } = rec;
  const route = rec.route;
  if (!route) throw errors.internal();
  const requestJson = jsonBytes(call.body);
  const preMs = performance.now() - call.t0;
  const started = await startStreaming(deps.clients, { context: ctx, candidates: route.candidates, requestJson, stream: true, purpose: "primary", signal: call.signal });
  if (!isStreamStart(started)) {
    const err = started.failure ? failureToError(started.failure) : errors.badGateway("The provider returned an empty stream.");
    const last = started.attempts.at(-1);
    finish(rec, { status: err.status, errorCode: err.code ?? "", runs: [started], escalated: false, overheadMs: preMs, totalMs: performance.now() - call.t0, stream: true, model: last?.model ?? "", provider: last?.provider ?? "" });
    throw err;
  }
  // The first chunk has arrived (startStreaming waits for it): the client can read its first token now.
  const firstTokenMs = performance.now() - call.t0;
  const model = started.model || (route.candidates[0]?.model ?? "");
  // The stream's failed attempts are known only when it ends; the header can still say who answers.
  const planned = route.candidates[0]?.model;
  if (planned && model !== planned) route.reasons.push(`fallback: ${planned} -> ${model}`);
  const headers = answerHeaders(rec, model, preMs, {});
  metrics.overheadOf.stream.observe(preMs / 1000);
  started.done.then(
    (run) => {
      const { usd } = attemptsCost(deps.pricing, run.attempts, new Date());
      finish(rec, {
        status: run.failure ? run.failure.httpStatus || 502 : 200,
        errorCode: run.failure?.code ?? "",
        runs: [run],
        escalated: false,
        overheadMs: preMs,
        totalMs: performance.now() - call.t0,
        firstTokenMs,
        stream: true,
        model: run.summary?.model ?? model,
        provider: run.summary?.provider ?? run.attempts.at(-1)?.provider ?? "",
        ...(run.summary?.usage ? { answerUsage: run.summary.usage } : {}),
        costUsd: usd.toFixed(),
        ...(run.completion ? { completion: run.completion } : {}),
      });
    },
    (e: unknown) => deps.logger.error({ err: e instanceof Error ? e.message : String(e) }, "stream accounting failed"),
  );
  const stream = started;
  // Headers are gone before the cost is known: it travels in the last chunk's `llmgw` field.
  const chunks = withTrailer(stream.chunks, async () => {
    const run = await stream.done;
    // A failure after the first token can only be told in-band: OpenAI SDKs raise on an error event.
    if (run.failure) return { errorJson: JSON.stringify(failureToError(run.failure).toBody()) };
    const { usd, unpriced } = attemptsCost(deps.pricing, run.attempts, new Date());
    return { info: gatewayInfo(deps, rec, { model: run.summary?.model ?? model, costUsd: usd.toFixed(), unpriced, ...(run.summary?.usage ? { answerUsage: run.summary.usage } : {}) }) };
  });
  return { type: "stream", headers, chunks, promptTokens: rec.promptTokens };
}

/** With `deps`, the saved price goes out too (savings headers; a stream's last chunk). */
export function answerFromCache(rec: ChatRecord, finish: Finish, deps?: EdgeDeps): ChatResult {
  const { call } = rec;
  const hit = rec.lookup;
  if (!hit) throw errors.internal();
  const cached = JSON.parse(hit.completionJson) as OpenAI.Chat.ChatCompletion;
  const completion: OpenAI.Chat.ChatCompletion = { ...cached, id: `chatcmpl-${call.requestId}`, created: Math.floor(Date.now() / 1000) };
  const totalMs = performance.now() - call.t0;
  const headers: Record<string, string> = {
    "x-llmgw-request-id": call.requestId,
    "x-llmgw-model": completion.model,
    "x-llmgw-tier": tierName(rec.cls.tier),
    "x-llmgw-cache": rec.cacheOutcome.replace("_", "-"),
    "x-llmgw-cache-similarity": hit.similarity.toFixed(4),
    "x-llmgw-cost-usd": "0",
    "x-llmgw-overhead-ms": totalMs.toFixed(3),
  };
  finish(rec, { status: 200, errorCode: "", runs: [], escalated: false, overheadMs: totalMs, totalMs, firstTokenMs: totalMs, stream: call.body.stream === true, model: completion.model, provider: "cache", completion: cached });
  const usage = cached.usage ? openAIUsageToProto(cached.usage) : undefined;
  const info = deps ? gatewayInfo(deps, rec, { model: completion.model, costUsd: "0", unpriced: false, ...(usage ? { answerUsage: usage } : {}) }) : undefined;
  if (info) Object.assign(headers, savingsHeaders(info));
  if (call.body.stream === true) {
    const chunks = completionToChunks(completion, { includeUsage: call.body.stream_options?.include_usage === true });
    const replay = (async function* () { for (const c of chunks) yield JSON.stringify(c); })();
    return { type: "stream", headers, chunks: info ? withTrailer(replay, async () => ({ info })) : replay, promptTokens: rec.promptTokens };
  }
  return { type: "json", headers, body: completion };
}

/** x-llmgw-cache; a request kept out by a privacy rule says so: `bypass-private` and which rule. */
function cacheHeaders(rec: ChatRecord): Record<string, string> {
  const reason = rec.lookup && !rec.lookup.hit ? rec.lookup.reason : "";
  if (!reason.startsWith("skip:private:")) return { "x-llmgw-cache": rec.cacheOutcome };
  return { "x-llmgw-cache": "bypass-private", "x-llmgw-cache-reason": reason.slice("skip:".length) };
}

const NOT_PRINTABLE = /[^\x20-\x7e]/;
const NOT_PRINTABLE_G = /[^\x20-\x7e]/g;

/** Route reasons as a header value: printable ASCII (others become "?"), at most 512 characters. */
function reasonsHeader(reasons: readonly string[]): string {
  const text = reasons.length === 1 ? (reasons[0] as string) : reasons.join("; ");
  // Reasons are ASCII nearly always: test once rather than run a global replace on every request.
  const safe = NOT_PRINTABLE.test(text) ? text.replace(NOT_PRINTABLE_G, "?") : text;
  return safe.length > 512 ? safe.slice(0, 512) : safe;
}

function answerHeaders(rec: ChatRecord, model: string, overheadMs: number, extra: { costUsd?: string; unpriced?: boolean }): Record<string, string> {
  const route = rec.route;
  const h: Record<string, string> = {
    "x-llmgw-request-id": rec.call.requestId,
    "x-llmgw-model": model,
    "x-llmgw-tier": tierName(route?.tier || rec.cls.tier),
    ...cacheHeaders(rec),
    "x-llmgw-overhead-ms": overheadMs.toFixed(3),
    "x-llmgw-route-reasons": reasonsHeader(route?.reasons ?? []),
  };
  if (extra.costUsd !== undefined) h["x-llmgw-cost-usd"] = extra.unpriced ? `${extra.costUsd}+unpriced` : extra.costUsd;
  return h;
}
