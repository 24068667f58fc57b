// Connect protocol over HTTP/1.1, binary only, on a fast path: unary (`application/proto`) and
// server-streaming (`application/connect+proto`) calls are served straight off node:http's
// request/response, the ServiceImpl method called directly (the same routes and HandlerContext as
// the gRPC fast path, rpc-routes.ts). Everything else (Connect JSON, GET, compression, gRPC-Web,
// client/bidi streaming, unknown paths) goes to `fallThrough` (connectNodeAdapter), so every client works.
import type http from "node:http";
import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus, endStreamFlag, endStreamToJson, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { CALL_COMPLETED, FastContext, MAX_TIMER_MS, NO_LIMIT, callUnary, encodeOutput, envelope, type Route } from "./rpc-routes.ts";

type Listener = (req: http.IncomingMessage, res: http.ServerResponse) => void;
type OutHeaders = Record<string, string | number>;

const UNARY_TYPE = "application/proto";
const STREAM_TYPE = "application/connect+proto";

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

/** One Connect call (unary or server-streaming) on one HTTP/1.1 request. */
class ConnectCall {
  private done = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly ctx: FastContext;
  private drainWaiter: (() => void) | undefined;

  constructor(
    private readonly req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
    private readonly route: Route,
    private readonly readMaxBytes: number,
  ) {
    const t = timeoutOf(req.headers["connect-timeout-ms"]);
    let deadline: number | undefined;
    if (typeof t === "number") {
      deadline = Date.now() + t;
      if (t <= MAX_TIMER_MS) this.timer = setTimeout(() => this.end(new ConnectError("the operation timed out", Code.DeadlineExceeded)), t);
    }
    this.ctx = new FastContext(route.service, route.method, "connect", req.headers, req.url ?? "", deadline);
    res.once("close", () => {
      this.drainWaiter?.();
      if (!this.done) {
        // The client went away (closed the connection) before the answer was complete.
        this.done = true;
        clearTimeout(this.timer);
        this.ctx.abort(new ConnectError("the client closed the connection", Code.Canceled));
      }
    });
    if (t instanceof ConnectError) {
      this.end(t);
      req.resume();
      return;
    }
    this.readRequest();
  }

  private readRequest(): void {
    const chunks: Buffer[] = [];
    let size = 0;
    const max = this.route.streaming ? this.readMaxBytes + 5 : this.readMaxBytes;
    this.req.on("data", (c: Buffer) => {
      if (this.done) return;
      size += c.length;
      if (size > max) {
        this.end(new ConnectError(`message size is larger than configured readMaxBytes ${this.readMaxBytes}`, Code.ResourceExhausted));
        return;
      }
      chunks.push(c);
    });
    this.req.once("end", () => {
      if (this.done) return;
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
      let req: unknown;
      try {
        req = this.parse(body);
      } catch (e) {
        this.end(e instanceof ConnectError ? e : ConnectError.from(e, Code.InvalidArgument));
        return;
      }
      if (this.route.streaming) void this.runStreaming(req);
      else callUnary(this.route.fn, req, this.ctx, (v) => this.finishUnary(v), (e) => this.end(e));
    });
  }

  private parse(body: Buffer): unknown {
    let bytes: Uint8Array = body;
    if (this.route.streaming) {
      if (body.length === 0) throw new ConnectError("protocol error: missing input message for server-streaming method", Code.InvalidArgument);
      if (body.length < 5) throw new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
      if ((body[0] as number) & 1) throw new ConnectError("protocol error: received compressed message without connect-content-encoding", Code.Internal);
      const len = body.readUInt32BE(1);
      if (5 + len > body.length) throw new ConnectError(`protocol error: promised ${len} bytes in enveloped message, got ${body.length - 5} bytes`, Code.InvalidArgument);
      if (5 + len < body.length) throw new ConnectError("protocol error: received extra input message for server-streaming method", Code.InvalidArgument);
      bytes = body.subarray(5);
    }
    try {
      return fromBinary(this.route.input, bytes);
    } catch (e) {
      throw new ConnectError(`parse binary: ${e instanceof Error ? e.message : String(e)}`, Code.InvalidArgument);
    }
  }

  private finishUnary(value: unknown): void {
    if (this.done) return;
    let bytes: Uint8Array;
    try {
      bytes = encodeOutput(this.route.output, value);
    } catch (e) {
      this.end(new ConnectError(`serialize binary: ${e instanceof Error ? e.message : String(e)}`, Code.Internal));
      return;
    }
    this.finish();
    const h: OutHeaders = { "content-type": UNARY_TYPE, "content-length": bytes.byteLength };
    copyInto(h, this.ctx.resHeader);
    copyInto(h, this.ctx.resTrailer, "trailer-");
    this.write(200, h, bytes);
  }

  private async runStreaming(req: unknown): Promise<void> {
    let it: AsyncIterator<unknown> | undefined;
    try {
      it = (this.route.fn(req, this.ctx) as AsyncIterable<unknown>)[Symbol.asyncIterator]();
      for (;;) {
        const r = await it.next();
        if (this.done) break;
        if (r.done) {
          this.end(undefined);
          return;
        }
        const f = envelope(0, encodeOutput(this.route.output, r.value));
        if (!this.sendStreamHeaders()) break;
        if (!this.res.write(f)) await this.drained();
      }
    } catch (e) {
      this.end(e instanceof ConnectError ? e : new ConnectError("internal error", Code.Internal, undefined, undefined, e));
      return;
    }
    // The call ended (cancel, deadline) while the handler was still producing: stop it.
    await it?.return?.(undefined)?.catch(() => undefined);
  }

  private drained(): Promise<void> {
    if (this.done) return Promise.resolve();
    return new Promise((resolve) => {
      const onDrain = () => {
        this.drainWaiter = undefined;
        this.res.off("drain", onDrain);
        resolve();
      };
      this.drainWaiter = onDrain;
      this.res.on("drain", onDrain);
    });
  }

  /** Response headers of a stream (once). False if they cannot be sent. */
  private sendStreamHeaders(): boolean {
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

  /** Marks the call over: the deadline timer goes, the handler's signal aborts (as Connect's does). */
  private finish(err?: ConnectError): void {
    this.done = true;
    clearTimeout(this.timer);
    // A shared reason for completed calls: abort() without one builds a DOMException per call.
    this.ctx.abort(err ?? CALL_COMPLETED);
    this.drainWaiter?.();
  }

  /** Ends the call: an error response (unary) or the end-of-stream message (streaming). */
  private end(err: ConnectError | undefined): void {
    if (this.done) return;
    this.finish(err);
    if (this.route.streaming) {
      if (!this.res.headersSent && !this.res.destroyed) {
        const h: OutHeaders = { "content-type": STREAM_TYPE };
        copyInto(h, this.ctx.resHeader);
        if (!this.tryWriteHead(200, h)) this.tryWriteHead(200, { "content-type": STREAM_TYPE });
      }
      const trailer = this.ctx.resTrailer ?? new Headers();
      const json = JSON.stringify(endStreamToJson(trailer, err, undefined));
      if (!this.res.destroyed) this.res.end(envelope(endStreamFlag, Buffer.from(json)));
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
