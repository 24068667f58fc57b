// Connect protocol over HTTP/1.1, binary only, on a fast path: unary (`application/proto`) and
// server-streaming (`application/connect+proto`) calls are served straight off node:http's
// request/response, the ServiceImpl method called directly (the same routes and HandlerContext as
// the gRPC fast path, rpc-routes.ts). Everything else (Connect JSON, GET, compression, gRPC-Web,
// client/bidi streaming, unknown paths) goes to `fallThrough` (connectNodeAdapter), so every client works.
import type http from "node:http";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus, endStreamFlag, endStreamToJson, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { FastCall, unenvelope } from "./fast-call.ts";
import { envelope } from "#libs/rpc/wire.ts";
import { NO_LIMIT, type Route } from "./rpc-routes.ts";

type Listener = (req: http.IncomingMessage, res: http.ServerResponse) => void;
type OutHeaders = Record<string, string | number>;

const UNARY_TYPE = "application/proto";
const STREAM_TYPE = "application/connect+proto";

/** The end-of-stream message of a stream that ended well without trailers: `{}`. Never written to. */
const END_OK = envelope(endStreamFlag, Buffer.from("{}"));

function hasAny(h: Headers | undefined): boolean {
  if (!h) return false;
  for (const _ of h.keys()) return true;
  return false;
}

function copyInto(target: OutHeaders, h: Headers | undefined, prefix = ""): void {
  h?.forEach((v, k) => {
    target[prefix + k] = v;
  });
}

/** The client's connect-timeout-ms: a number of ms, an error for a malformed value, undefined if absent. */
function timeoutOf(v: string | string[] | undefined): number | ConnectError | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string" || !/^\d{1,10}$/.test(v)) return new ConnectError(`protocol error: invalid connect timeout value: ${String(v)}`, Code.InvalidArgument);
  return Number(v);
}

/**
 * Where a stream's messages go: stream messages written in one tick leave in one write, with the
 * end of stream if it follows in the same tick (a JSON completion: headers, its messages and the
 * end in one segment, so the client wakes and reads once instead of once per write).
 */
class CorkingSink {
  private corked = false;
  private readonly flush = (): void => {
    this.corked = false;
    this.res.uncork();
  };

  constructor(private readonly res: http.ServerResponse) {}

  write(chunk: Buffer): boolean {
    if (!this.corked) {
      this.corked = true;
      this.res.cork();
      process.nextTick(this.flush);
    }
    return this.res.write(chunk);
  }
  on(event: "drain", listener: () => void): void {
    this.res.on(event, listener);
  }
  off(event: "drain", listener: () => void): void {
    this.res.off(event, listener);
  }
}

/** One Connect call (unary or server-streaming) on one HTTP/1.1 request. */
class ConnectCall extends FastCall {
  constructor(
    req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
    route: Route,
    readMaxBytes: number,
  ) {
    super(route, "connect", req.headers, req.url ?? "", timeoutOf(req.headers["connect-timeout-ms"]), readMaxBytes);
    // The client went away (closed the connection) before the answer was complete.
    res.once("close", () => this.peerClosed(() => new ConnectError("the client closed the connection", Code.Canceled)));
    this.start(req, route.streaming ? new CorkingSink(res) : res, route.streaming ? readMaxBytes + 5 : readMaxBytes);
  }

  protected unwrap(body: Buffer): Uint8Array {
    if (!this.route.streaming) return body;
    return unenvelope(body, { kind: "server-streaming", wrongCount: Code.InvalidArgument, encodingHeader: "connect-content-encoding" });
  }

  protected sendUnary(bytes: Uint8Array): void {
    this.finish();
    const h: OutHeaders = { "content-type": UNARY_TYPE, "content-length": bytes.byteLength };
    copyInto(h, this.ctx.resHeader);
    copyInto(h, this.ctx.resTrailer, "trailer-");
    this.write(200, h, bytes);
  }

  /** Response headers of a stream (once). False if they cannot be sent. */
  protected sendStreamHeaders(): boolean {
    if (this.res.headersSent) return true;
    if (this.res.destroyed) return false;
    const h: OutHeaders = { "content-type": STREAM_TYPE };
    copyInto(h, this.ctx.resHeader);
    try {
      this.res.writeHead(200, h);
    } catch (e) {
      // Headers node:http refuses (invalid characters...): end the call as a plain error.
      this.res.removeHeader("content-type");
      this.end(new ConnectError(`invalid response headers: ${e instanceof Error ? e.message : String(e)}`, Code.Internal));
      return false;
    }
    return true;
  }

  /** Ends the call: an error response (unary) or the end-of-stream message (streaming). */
  protected end(err: ConnectError | undefined): void {
    if (this.done) return;
    this.finish(err);
    if (this.route.streaming) {
      if (!this.res.headersSent && !this.res.destroyed) {
        const h: OutHeaders = { "content-type": STREAM_TYPE };
        copyInto(h, this.ctx.resHeader);
        if (!this.tryWriteHead(200, h)) this.tryWriteHead(200, { "content-type": STREAM_TYPE });
      }
      if (this.res.destroyed) return;
      const trailer = this.ctx.resTrailer;
      // The usual end (no error, no trailers) is always the same bytes.
      if (!err && !hasAny(trailer)) {
        this.res.end(END_OK);
        return;
      }
      const json = JSON.stringify(endStreamToJson(trailer ?? new Headers(), err, undefined));
      this.res.end(envelope(endStreamFlag, Buffer.from(json)));
      return;
    }
    if (!err) return;
    const body = errorToJsonBytes(err, undefined);
    const h: OutHeaders = { "content-type": "application/json", "content-length": body.byteLength };
    copyInto(h, this.ctx.resHeader);
    err.metadata.forEach((v, k) => {
      h[k] = v;
    });
    copyInto(h, this.ctx.resTrailer, "trailer-");
    h["content-type"] = "application/json";
    h["content-length"] = body.byteLength;
    this.write(codeToHttpStatus(err.code), h, body);
  }

  private tryWriteHead(status: number, h: OutHeaders): boolean {
    try {
      this.res.writeHead(status, h);
      return true;
    } catch {
      return false;
    }
  }

  /** A whole unary response; handler headers node:http refuses turn it into an INTERNAL error. */
  private write(status: number, h: OutHeaders, body: Uint8Array): void {
    if (this.res.destroyed || this.res.headersSent) return;
    if (this.tryWriteHead(status, h)) {
      this.res.end(body);
      return;
    }
    const err = new ConnectError("invalid response headers", Code.Internal);
    const b = errorToJsonBytes(err, undefined);
    if (this.tryWriteHead(codeToHttpStatus(err.code), { "content-type": "application/json", "content-length": b.byteLength })) this.res.end(b);
    else this.res.destroy();
  }
}

/**
 * A node:http request listener: binary Connect unary and server-streaming calls of `routes` on the
 * fast path, everything else to `fallThrough`.
 */
export function connectFastPath(routes: ReadonlyMap<string, Route>, fallThrough: Listener, options: { readMaxBytes?: number } = {}): Listener {
  const readMaxBytes = options.readMaxBytes ?? NO_LIMIT;
  return (req, res) => {
    if (req.method === "POST") {
      const route = routes.get(req.url ?? "");
      if (route) {
        const ct = req.headers["content-type"];
        const streaming = route.streaming;
        const encoding = streaming ? req.headers["connect-content-encoding"] : req.headers["content-encoding"];
        if ((encoding === undefined || encoding === "identity") && (streaming ? ct === STREAM_TYPE : ct === UNARY_TYPE)) {
          new ConnectCall(req, res, route, readMaxBytes);
          return;
        }
      }
    }
    fallThrough(req, res);
  };
}
