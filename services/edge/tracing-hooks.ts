// The edge's part of a trace: a server span per request (child of the caller's traceparent, if any),
// active while the route runs so every RPC and event of the request joins it, ended when the response
// closes (SSE included). The trace id goes back in `x-llmgw-trace-id`, with tracing on or off.
import type { FastifyInstance } from "fastify";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { extractContext, gatewayTracer, tracingOn } from "#libs/tracing/tracing.ts";
import { traceIdOfRequest } from "./request-meta.ts";
import { requestSpan, setRequestSpan } from "./request-span.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The trace id sent back in x-llmgw-trace-id, kept so the route does not work it out again (callBase). */
    llmgwTraceId: string;
  }
}

export function registerTracing(app: FastifyInstance): void {
  app.decorateRequest("llmgwTraceId", "");
  // Decided when the edge is built (the composition starts tracing first): off, one small hook.
  if (!tracingOn()) {
    // The id the ledger records for the request (the caller's trace id, else the request id).
    app.addHook("onRequest", (req, reply, done) => {
      const traceId = traceIdOfRequest(req);
      req.llmgwTraceId = traceId;
      reply.raw.setHeader("x-llmgw-trace-id", traceId);
      done();
    });
    return;
  }
  app.addHook("onRequest", (req, reply, done) => {
    const route = req.routeOptions.url ?? req.url.split("?")[0] ?? "/";
    const span = gatewayTracer().startSpan(
      `${req.method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { "http.request.method": req.method, "http.route": route, "llmgw.request_id": req.id, "llmgw.service": "edge" } },
      extractContext(req.headers),
    );
    setRequestSpan(req, span);
    req.llmgwTraceId = span.spanContext().traceId;
    reply.raw.setHeader("x-llmgw-trace-id", req.llmgwTraceId);
    reply.raw.once("close", () => {
      const status = reply.raw.statusCode;
      span.setAttribute("http.response.status_code", status);
      if (status >= 500 || !reply.raw.writableFinished) span.setStatus({ code: SpanStatusCode.ERROR, message: reply.raw.writableFinished ? `HTTP ${status}` : "client closed the connection" });
      // After-answer hooks of a stream run as it ends: let them add their attributes first.
      setImmediate(() => span.end());
    });
    done();
  });
  // The handler runs in the span's context (the body was parsed outside it, on socket events).
  app.addHook("preHandler", (req, _reply, done) => {
    const span = requestSpan(req);
    if (!span) return done();
    context.with(trace.setSpan(context.active(), span), done);
  });
}
