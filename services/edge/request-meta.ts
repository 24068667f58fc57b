// What every API route reads from the request's headers besides the body: the cache directive, the
// W3C trace id, single header values. Shared by the chat route and the routes built on the pipeline.
import { setMaxListeners } from "node:events";
import type { Socket } from "node:net";
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
 * signal that aborts the provider call when the client goes away before the answer is written
 * (its connection's, see connectionSignal). */
export interface CallBase {
  requestId: string;
  traceId: string;
  receivedAt: Date;
  t0: number;
  auth: AuthContext;
  cacheControl: CacheControl;
  signal: AbortSignal;
}

/** The client's connection, as far as the abort needs it. */
type Connection = Pick<Socket, "once">;

const byConnection = new WeakMap<Connection, AbortSignal>();

/**
 * A signal that aborts when the client's connection closes, one per connection rather than per
 * request: Node builds an AbortSignal (an EventTarget) at a cost that showed in the profile, and on
 * HTTP/1.1 a connection carries one request at a time (pipelined ones wait their turn), so a client
 * that leaves before its answer is written closes the connection, which is what aborts. A connection
 * closed after its last answer aborts nobody's call: by then no request on it is in flight.
 */
function connectionSignal(socket: Connection): AbortSignal {
  let signal = byConnection.get(socket);
  if (!signal) {
    const ctl = new AbortController();
    signal = ctl.signal;
    // Pipelined requests on one connection are in flight together, each call listening: no leak warning at 10.
    setMaxListeners(0, signal);
    byConnection.set(socket, signal);
    socket.once("close", () => ctl.abort());
  }
  return signal;
}

export function callBase(req: FastifyRequest, reply: FastifyReply, auth: AuthContext): CallBase {
  // The tracing hook (tracing-hooks.ts) has worked the trace id out already.
  return { requestId: req.id, traceId: req.llmgwTraceId || traceIdOfRequest(req), receivedAt: new Date(), t0: req.llmgwStart, auth, cacheControl: cacheControlOf(req), signal: callSignal(req, reply) };
}

/** The connection's signal; a request without one (none here, but FastifyRequest allows it) gets its own, as before. */
function callSignal(req: FastifyRequest, reply: FastifyReply): AbortSignal {
  const socket: Connection | null | undefined = req.raw.socket;
  if (socket) return connectionSignal(socket);
  const abort = new AbortController();
  req.raw.on("close", () => {
    if (!reply.raw.writableEnded) abort.abort();
  });
  return abort.signal;
}

/** The session a request belongs to: the header, else the API's own user field, else none. */
export function sessionIdOf(req: FastifyRequest, fallback: string | null | undefined): string {
  return headerValue(req.headers["x-llmgw-session-id"]) ?? fallback ?? "";
}
