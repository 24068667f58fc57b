// A consumer span per bus message, child of the span that published it (the traceparent the
// message carries), so one request's trace runs on through the ledger and the evaluator.
import { context, SpanKind, SpanStatusCode, trace, type Span } from "@opentelemetry/api";
import type { BusMessage } from "#libs/bus/event-bus.ts";
import { extractContext, gatewayTracer, tracingOn } from "./tracing.ts";

function start(name: string, m: Pick<BusMessage, "subject" | "headers" | "deliveryCount">): Span {
  return gatewayTracer().startSpan(
    name,
    { kind: SpanKind.CONSUMER, attributes: { "messaging.system": "nats", "messaging.operation.type": "process", "messaging.destination.name": m.subject, "llmgw.delivery_count": m.deliveryCount } },
    extractContext(m.headers),
  );
}

function settle(span: Span, e?: unknown): void {
  if (e !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
  span.end();
}

/** Runs `fn` for one message inside its consumer span. */
export async function withConsumerSpan<T>(name: string, m: BusMessage, fn: () => Promise<T>): Promise<T> {
  if (!tracingOn()) return fn();
  const span = start(name, m);
  try {
    const r = await context.with(trace.setSpan(context.active(), span), fn);
    settle(span);
    return r;
  } catch (e) {
    settle(span, e);
    throw e;
  }
}

/** Runs `fn` for a batch handled as one (one transaction): every message gets its own span over it. */
export async function withBatchSpans<T>(name: string, msgs: readonly BusMessage[], fn: () => Promise<T>): Promise<T> {
  if (!tracingOn()) return fn();
  const spans = msgs.map((m) => start(name, m));
  try {
    const r = await fn();
    for (const s of spans) settle(s);
    return r;
  } catch (e) {
    for (const s of spans) settle(s, e);
    throw e;
  }
}
