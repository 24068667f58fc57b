// One binary-gRPC call on a node:http2 stream, for the mesh's http2 client (http2-client.ts): the
// request frame goes out with the headers, response frames are handed to a sink as they arrive, and
// the call ends with the status from trailers (or a trailers-only response), the deadline, the
// caller's abort, or the connection's loss. Unary and server-streaming calls share it.
import http2 from "node:http2";
import { Code, ConnectError, type CallOptions } from "@connectrpc/connect";
import { codeOfHttpStatus, decodeGrpcMessage, FrameDecoder, resetStatus, statusCode } from "./grpc-wire.ts";
import type { Conn, Http2Channel } from "./http2-channel.ts";

/** Where a call's messages and its end go. */
export interface CallSink {
  message(payload: Buffer): void;
  /** Exactly once; undefined when the status is OK. */
  end(err: ConnectError | undefined): void;
}

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM } = http2.constants;
// Servers end connections every few minutes (GOAWAY); a call crossing two or three of those in a
// row means something else is wrong.
const MAX_RESTARTS = 3;

/** HTTP/2 headers as Fetch Headers (pseudo-headers left out) for onHeader, onTrailer and error metadata. */
function toHeaders(h: http2.IncomingHttpHeaders, dropStatus: boolean): Headers {
  const out = new Headers();
  for (const k in h) {
    if (k.charCodeAt(0) === 58 /* : */ || k.endsWith("-bin")) continue;
    if (dropStatus && (k === "grpc-status" || k === "grpc-message")) continue;
    const v = h[k];
    if (typeof v === "string") out.append(k, v);
    else if (Array.isArray(v)) for (const x of v) out.append(k, x);
  }
  return out;
}

export class Http2Call {
  private done = false;
  /** Starts again of a call that never reached a server (refused stream, session gone): at most MAX_RESTARTS. */
  private restarts = 0;
  private timer: NodeJS.Timeout | undefined;
  private stream: http2.ClientHttp2Stream | undefined;
  private httpStatus = 0;
  private gotHeaders = false;
  private grpcStatus: string | undefined;
  private statusHeaders: http2.IncomingHttpHeaders | undefined;
  private readonly decoder = new FrameDecoder();
  private readonly payloads: Buffer[] = [];
  private readonly onAbort: (() => void) | undefined;

  constructor(
    private readonly ch: Http2Channel,
    private readonly headers: http2.OutgoingHttpHeaders,
    private readonly body: Buffer,
    timeoutMs: number | undefined,
    private readonly opts: CallOptions | undefined,
    private readonly sink: CallSink,
  ) {
    const signal = opts?.signal;
    if (signal?.aborted) {
      this.finish(ConnectError.from(signal.reason, Code.Canceled));
      return;
    }
    if (signal) {
      this.onAbort = () => this.finish(ConnectError.from(signal.reason, Code.Canceled));
      signal.addEventListener("abort", this.onAbort, { once: true });
    }
    if (timeoutMs !== undefined) {
      if (timeoutMs <= 0) {
        this.finish(new ConnectError("Deadline exceeded", Code.DeadlineExceeded));
        return;
      }
      // setTimeout overflows above 2^31-1 ms; such deadlines are sent but not timed here.
      if (timeoutMs <= 2_147_483_647) this.timer = setTimeout(() => this.finish(new ConnectError("Deadline exceeded", Code.DeadlineExceeded)), timeoutMs);
    }
    this.begin(undefined);
  }

  /** Picks a session (another than `exclude` when retrying) and starts the stream on it. */
  private begin(exclude: Conn | undefined): void {
    let picked: Conn | Promise<Conn>;
    try {
      picked = this.ch.pick(exclude);
    } catch (e) {
      this.finish(ConnectError.from(e, Code.Unavailable));
      return;
    }
    if (picked instanceof Promise)
      picked.then(
        (c) => this.attach(c),
        (e: unknown) => this.finish(ConnectError.from(e, Code.Unavailable)),
      );
    else this.attach(picked);
  }

  private attach(conn: Conn): void {
    if (this.done) return;
    let stream: http2.ClientHttp2Stream;
    try {
      stream = conn.session.request(this.headers, { endStream: false });
    } catch (e) {
      // The session went away (GOAWAY, closing, destroyed) since it was picked: the call never started.
      conn.retire();
      if (this.restarts < MAX_RESTARTS) {
        this.restarts++;
        this.begin(conn);
      } else this.finish(new ConnectError(`connection lost: ${e instanceof Error ? e.message : String(e)}`, Code.Unavailable));
      return;
    }
    conn.acquire();
    this.stream = stream;
    stream.on("response", (h) => this.onResponse(h));
    stream.on("data", (c: Buffer) => this.onData(c));
    stream.on("trailers", (t) => this.onStatus(t));
    stream.on("error", () => {}); // resets and session errors end the call via "close"
    stream.on("close", () => this.onClose(stream, conn));
    stream.end(this.body);
  }

  private onResponse(h: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader): void {
    this.gotHeaders = true;
    this.httpStatus = h[":status"] ?? 0;
    if (this.httpStatus !== 200) return;
    if (h["grpc-status"] !== undefined) {
      this.onStatus(h); // trailers-only
      return;
    }
    const ct = h["content-type"];
    if (typeof ct !== "string" || !ct.startsWith("application/grpc")) {
      this.cancel(new ConnectError(`Received unexpected content-type: ${String(ct)}`, Code.Unknown));
      return;
    }
    this.opts?.onHeader?.(toHeaders(h, false));
  }

  private onData(chunk: Buffer): void {
    if (this.done || this.httpStatus !== 200) return;
    const out = this.payloads;
    const bad = this.decoder.push(chunk, out);
    if (bad !== undefined) {
      this.cancel(new ConnectError(bad, Code.Internal));
      return;
    }
    if (out.length === 0) return;
    for (const p of out) this.sink.message(p);
    out.length = 0;
  }

  private onStatus(t: http2.IncomingHttpHeaders): void {
    const s = t["grpc-status"];
    this.grpcStatus = typeof s === "string" ? s : String(s ?? "");
    this.statusHeaders = t;
  }

  private onClose(stream: http2.ClientHttp2Stream, conn: Conn): void {
    conn.release();
    if (this.done) return;
    const st = this.statusHeaders;
    if (this.grpcStatus !== undefined && st !== undefined) {
      this.opts?.onTrailer?.(toHeaders(st, false));
      const code = statusCode(this.grpcStatus);
      if (code === 0) {
        this.finish(this.decoder.pending > 0 ? new ConnectError("protocol error: incomplete message at the end of the stream", Code.Internal) : undefined);
        return;
      }
      const m = st["grpc-message"];
      this.finish(new ConnectError(decodeGrpcMessage(typeof m === "string" ? m : ""), code as Code, toHeaders(st, true)));
      return;
    }
    if (this.gotHeaders && this.httpStatus !== 200) {
      this.finish(new ConnectError(`Received HTTP status code ${this.httpStatus}`, codeOfHttpStatus(this.httpStatus)));
      return;
    }
    const rst = stream.rstCode ?? NGHTTP2_CANCEL;
    // A stream the server refused (draining: GOAWAY crossed our call) was never processed: send it
    // again; round robin picks another session.
    if (rst === NGHTTP2_REFUSED_STREAM && !this.gotHeaders && this.restarts < MAX_RESTARTS) {
      this.restarts++;
      this.stream = undefined;
      this.begin(conn);
      return;
    }
    if (conn.error !== undefined || conn.session.destroyed) {
      const why = conn.error ? `: ${conn.error.message}` : "";
      this.finish(new ConnectError(`Connection dropped${why}`, Code.Unavailable));
      return;
    }
    const r = resetStatus(rst);
    this.finish(new ConnectError(r.message, r.code));
  }

  /** Ends the call with `err` and resets the stream (the server stops working on it). */
  cancel(err: ConnectError): void {
    this.finish(err);
  }

  /** Flow control for streaming consumers that fall behind. */
  pause(): void {
    this.stream?.pause();
  }

  resume(): void {
    this.stream?.resume();
  }

  private finish(err: ConnectError | undefined): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    if (this.onAbort) this.opts?.signal?.removeEventListener("abort", this.onAbort);
    const s = this.stream;
    if (s && !s.closed && !s.destroyed) s.close(NGHTTP2_CANCEL);
    this.sink.end(err);
  }
}
