// The edge's span of a request (tracing on), kept beside the request without decorating it.
import type { Span } from "@opentelemetry/api";
import type { FastifyRequest } from "fastify";

const spans = new WeakMap<FastifyRequest, Span>();

export function setRequestSpan(req: FastifyRequest, span: Span): void {
  spans.set(req, span);
}

export function requestSpan(req: FastifyRequest): Span | undefined {
  return spans.get(req);
}

/** The trace id of the request's span, when tracing is on. */
export function spanTraceId(req: FastifyRequest): string | undefined {
  return spans.get(req)?.spanContext().traceId;
}
