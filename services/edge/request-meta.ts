// What every API route reads from the request's headers besides the body: the cache directive, the
// W3C trace id, single header values. Shared by the chat route and the routes built on the pipeline.
import type { FastifyReply, FastifyRequest } from "fastify";
import type { AuthContext } from "./auth.ts";
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

/** What every pipeline call takes from the request: ids, clocks, caller, cache directive, and a
 * signal that aborts the provider call when the client goes away before the answer is written. */
export interface CallBase {
  requestId: string;
  traceId: string;
  receivedAt: Date;
  t0: number;
  auth: AuthContext;
  cacheControl: CacheControl;
  signal: AbortSignal;
}

export function callBase(req: FastifyRequest, reply: FastifyReply, auth: AuthContext): CallBase {
  const abort = new AbortController();
  req.raw.on("close", () => {
    if (!reply.raw.writableEnded) abort.abort();
  });
  // The tracing hook (tracing-hooks.ts) has worked the trace id out already.
  return { requestId: req.id, traceId: req.llmgwTraceId || traceIdOfRequest(req), receivedAt: new Date(), t0: req.llmgwStart, auth, cacheControl: cacheControlOf(req), signal: abort.signal };
}

/** The session a request belongs to: the header, else the API's own user field, else none. */
export function sessionIdOf(req: FastifyRequest, fallback: string | null | undefined): string {
  return headerValue(req.headers["x-llmgw-session-id"]) ?? fallback ?? "";
}
