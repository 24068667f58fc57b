// GenAI semantic-convention attributes on the request's span (tracing on): what was asked, what
// answered, tokens and cost — what Langfuse and other GenAI trace views read.
import { trace } from "@opentelemetry/api";
import { tierName } from "#libs/rpc/tier.ts";
import { tracingOn } from "#libs/tracing/tracing.ts";
import { sumUsage } from "../accounting.ts";
import type { ChatOutcome, ChatRecord } from "./record.ts";

export function annotateGenAiSpan(rec: ChatRecord, out: ChatOutcome): void {
  if (!tracingOn()) return; // no provider: no span to annotate, and not even the lookup
  const span = trace.getActiveSpan();
  if (!span?.isRecording()) return;
  let input = 0;
  let output = 0;
  if (out.runs.length > 0) {
    const u = sumUsage(out.runs.flatMap((r) => r.attempts));
    input = Number(u.inputTokens + u.cachedInputTokens + u.cacheWrite5mTokens + u.cacheWrite1hTokens);
    output = Number(u.outputTokens);
  }
  span.setAttributes({
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": out.provider,
    "gen_ai.system": out.provider,
    "gen_ai.request.model": rec.call.body.model,
    "gen_ai.response.model": out.model,
    "gen_ai.usage.input_tokens": input,
    "gen_ai.usage.output_tokens": output,
    "llmgw.cost_usd": Number(out.costUsd ?? 0),
    "llmgw.cache": rec.cacheOutcome,
    "llmgw.tier": tierName(rec.route?.tier || rec.cls.tier),
    "llmgw.category": rec.cls.category,
    "llmgw.escalated": out.escalated,
  });
  if (out.status !== 200) span.setAttribute("error.type", out.errorCode || String(out.status));
}
