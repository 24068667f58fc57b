// A client span per provider call (tracing on), child of the Execute span: which deployment was
// tried, how long it took, the tokens it used, and why it failed — retries and fallbacks show up as
// siblings. Named and attributed per the GenAI conventions ("chat <model>", gen_ai.*).
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { gatewayTracer, tracingOn } from "#libs/tracing/tracing.ts";
import type { Usage } from "../providers/types.ts";

export interface AttemptFacts {
  model: string;
  provider: string;
  /** Epoch ms the call started, and how long it took. */
  startedAt: number;
  latencyMs: number;
  usage: Usage | null;
  /** HTTP status and code of the failure, when it failed. */
  error?: { status: number; code: string };
}

export function recordAttemptSpan(a: AttemptFacts): void {
  if (!tracingOn()) return;
  const span = gatewayTracer().startSpan(`chat ${a.model}`, {
    kind: SpanKind.CLIENT,
    startTime: a.startedAt,
    attributes: { "gen_ai.operation.name": "chat", "gen_ai.provider.name": a.provider, "gen_ai.request.model": a.model, "gen_ai.response.model": a.model },
  });
  if (a.usage) {
    span.setAttributes({
      "gen_ai.usage.input_tokens": a.usage.inputTokens + a.usage.cachedInputTokens + a.usage.cacheWrite5mTokens + a.usage.cacheWrite1hTokens,
      "gen_ai.usage.output_tokens": a.usage.outputTokens,
    });
  }
  if (a.error) {
    span.setAttributes({ "error.type": a.error.code || String(a.error.status), "http.response.status_code": a.error.status });
    span.setStatus({ code: SpanStatusCode.ERROR, message: a.error.code });
  }
  span.end(a.startedAt + a.latencyMs);
}
