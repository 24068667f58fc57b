// What every API route reads from the request's headers besides the body: the cache directive, the
// W3C trace id, single header values. Shared by the chat route and the routes built on the pipeline.
import type { FastifyRequest } from "fastify";
import { CacheControl } from "#libs/gen/llmgw/cache/v1/cache_pb.ts";
import { spanTraceId } from "./request-span.ts";

/** `x-llmgw-cache: off|refresh`, or `Cache-Control: no-store`. */
export function cacheControlOf(req: FastifyRequest): CacheControl {
  const mode = headerValue(req.headers["x-llmgw-cache"])?.toLowerCase();
  if (mode === "off") return CacheControl.OFF;
  if (mode === "refresh") return CacheControl.REFRESH;
  if (/\bno-store\b/i.test(headerValue(req.headers["cache-control"]) ?? "")) return CacheControl.NO_STORE;
  return CacheControl.DEFAULT;
}

export function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

/** W3C traceparent: 00-<trace id>-<span id>-<flags>. */
export function traceIdOf(tp: string | undefined): string | undefined {
  const m = tp ? /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/.exec(tp) : null;
  return m?.[1];
}

/** The trace id of the request: its span's (tracing on), else its traceparent's, else the request id without dashes. */
export function traceIdOfRequest(req: FastifyRequest): string {
  return spanTraceId(req) ?? traceIdOf(headerValue(req.headers.traceparent)) ?? req.id.replaceAll("-", "");
}
