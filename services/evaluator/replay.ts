// One replay of a request through the executor for a shadow test or a cache audit: the answer (or why
// there is none), and the provider call the ledger records for it, priced.
import type { Client } from "@connectrpc/connect";
import type OpenAI from "openai";
import type { RequestContext } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { create } from "@bufbuild/protobuf";
import { ProviderCallSchema, type ProviderCall } from "#libs/gen/llmgw/events/v1/events_pb.ts";
import type { Attempt, ExecutorService } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { computeCost, fromProtoUsage, type PriceTable } from "#libs/pricing/index.ts";

export interface Replay {
  answer?: Uint8Array;
  /** The executor's failure code when there is no answer. */
  failure: string;
  /** The last attempt that reached the provider: the call the ledger records. */
  sent?: Attempt;
  /** Its cost; null when the model has no price (unknown, never 0). */
  costUsd: string | null;
  startedAt: string;
}

export async function replay(executor: Client<typeof ExecutorService>, prices: PriceTable, context: RequestContext | undefined, model: string, requestJson: Uint8Array): Promise<Replay> {
  let answer: Uint8Array | undefined;
  let failure = "";
  let attempts: Attempt[] = [];
  const startedAt = new Date().toISOString();
  for await (const r of executor.execute({ context, candidates: [{ model }], requestJson, stream: false, purpose: "shadow" })) {
    if (r.event.case === "completionJson") answer = r.event.value;
    if (r.event.case === "summary") attempts = r.event.value.attempts;
    if (r.event.case === "failure") {
      failure = r.event.value.code || "failed";
      attempts = r.event.value.attempts;
    }
  }
  const sent = attempts.filter((a) => !a.status.startsWith("skipped")).at(-1);
  const priced = sent?.usage ? computeCost(prices, fromProtoUsage(sent.usage), sent.model, new Date()) : undefined;
  return { ...(answer ? { answer } : {}), failure, ...(sent ? { sent } : {}), costUsd: priced && !priced.unpriced ? priced.costUsd : null, startedAt };
}

/** The ledger's record of a replay's provider call (kind "shadow", never billed to the tenant). */
export function shadowCall(r: Replay, callId: string): ProviderCall | undefined {
  const s = r.sent;
  if (!s) return undefined;
  return create(ProviderCallSchema, { callId, kind: "shadow", model: s.model, provider: s.provider, status: s.status === "ok" ? "ok" : "error", errorCode: s.errorCode, latencyMs: s.latencyMs, usage: s.usage, startedAt: r.startedAt });
}

/**
 * A cache audit's baseline: the request with the cached question as its last user message. The semantic
 * layer matches only that message (everything before it is part of the partition), so this is the
 * request the cached answer was written for.
 */
export function baselineRequest(request: OpenAI.Chat.ChatCompletionCreateParams, question: string): OpenAI.Chat.ChatCompletionCreateParams {
  const messages = [...request.messages];
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role === "user") {
      messages[i] = { role: "user", content: question };
      break;
    }
  }
  return { ...request, messages };
}
