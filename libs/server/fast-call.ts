// What one fast-path call does the same on either protocol (gRPC on an HTTP/2 stream, Connect on an
// HTTP/1.1 request): the deadline timer, reading the request body, running the handler (unary or
// server-streaming, with back-pressure), and ending the handler's signal when the call is over.
// The subclasses own the wire: how the request is enveloped, headers, status and end of stream.
import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { CALL_COMPLETED, FastContext, MAX_TIMER_MS, asConnectError, callUnary, type Route } from "./rpc-routes.ts";
import { encodeMessage, envelope } from "#libs/rpc/wire.ts";

/** Where the request body comes from (an HTTP/2 stream, an IncomingMessage). */
interface Source {
  on(event: "data", listener: (chunk: Buffer) => void): unknown;
  once(event: "end", listener: () => void): unknown;
  resume(): unknown;
}

/** Where stream messages go (an HTTP/2 stream, a ServerResponse). */
interface Sink {
  write(chunk: Buffer): boolean;
  on(event: "drain", listener: () => void): unknown;
  off(event: "drain", listener: () => void): unknown;
}

export type RawHeaders = Readonly<Record<string, string | string[] | undefined>>;

export abstract class FastCall {
  protected done = false;
  protected readonly ctx: FastContext;
  private timer: NodeJS.Timeout | undefined;
  private drainWaiter: (() => void) | undefined;
  private sink: Sink | undefined;

  /** `timeout`: the client's timeout in ms, an error for a malformed one, undefined for none. */
  constructor(
    protected readonly route: Route,
    protocolName: string,
    headers: RawHeaders,
    path: string,
    private readonly timeout: number | ConnectError | undefined,
    protected readonly readMaxBytes: number,
  ) {
    let deadline: number | undefined;
    if (typeof timeout === "number") {
      deadline = Date.now() + timeout;
      if (timeout <= MAX_TIMER_MS) this.timer = setTimeout(() => this.end(new ConnectError("the operation timed out", Code.DeadlineExceeded)), timeout);
    }
    this.ctx = new FastContext(route.service, route.method, protocolName, headers, path, deadline);
  }

  /** Ends the call on the wire: `err` as its status, or success. Once; later calls do nothing. */
  protected abstract end(err: ConnectError | undefined): void;
  /** The request message's bytes out of the body (unwrapping the protocol's envelope, if any). */
  protected abstract unwrap(body: Buffer): Uint8Array;
  /** A unary call's answer: the encoded response message. */
  protected abstract sendUnary(bytes: Uint8Array): void;
  /** Response headers of a stream, once. False if the call is over. */
  protected abstract sendStreamHeaders(): boolean;
  /** A stream the handler finished without error. */
  protected endStream(): void {
    this.end(undefined);
  }

  /** Reads the request, then runs the handler. Subclasses call it last in their constructor. */
  protected start(source: Source, sink: Sink, maxBody: number): void {
    this.sink = sink;
    if (this.timeout instanceof ConnectError) {
      this.end(this.timeout);
      source.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    source.on("data", (c: Buffer) => {
      if (this.done) return;
      size += c.length;
      if (size > maxBody) {
        this.end(new ConnectError(`message size is larger than configured readMaxBytes ${this.readMaxBytes}`, Code.ResourceExhausted));
        return;
      }
      chunks.push(c);
    });
    source.once("end", () => {
      if (this.done) return;
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
      let req: unknown;
      try {
        req = this.parse(body);
      } catch (e) {
        this.end(asConnectError(e));
        return;
      }
      if (this.route.streaming) void this.runStreaming(req);
      else callUnary(this.route.fn, req, this.ctx, (v) => this.finishUnary(v), (e) => this.end(e));
    });
  }

  private parse(body: Buffer): unknown {
    const bytes = this.unwrap(body);
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
      bytes = encodeMessage(this.route.output, value);
    } catch (e) {
      this.end(new ConnectError(`serialize binary: ${e instanceof Error ? e.message : String(e)}`, Code.Internal));
      return;
    }
    this.sendUnary(bytes);
  }

  private async runStreaming(req: unknown): Promise<void> {
    let it: AsyncIterator<unknown> | undefined;
    try {
      it = (this.route.fn(req, this.ctx) as AsyncIterable<unknown>)[Symbol.asyncIterator]();
      for (;;) {
        const r = await it.next();
        if (this.done) break;
        if (r.done) {
          this.endStream();
          return;
        }
        const f = envelope(0, encodeMessage(this.route.output, r.value));
        if (!this.sendStreamHeaders()) break;
        if (!(this.sink as Sink).write(f)) await this.drained();
      }
    } catch (e) {
      this.end(asConnectError(e));
      return;
    }
    // The call ended (cancel, deadline) while the handler was still producing: stop it.
    await it?.return?.(undefined)?.catch(() => undefined);
  }

  private drained(): Promise<void> {
    if (this.done) return Promise.resolve();
    const sink = this.sink as Sink;
    return new Promise((resolve) => {
      const onDrain = () => {
        this.drainWaiter = undefined;
        sink.off("drain", onDrain);
        resolve();
      };
      this.drainWaiter = onDrain;
      sink.on("drain", onDrain);
    });
  }

  /** Marks the call over: the deadline timer goes, the handler's signal aborts (as Connect's does). */
  protected finish(err?: ConnectError): void {
    this.done = true;
    clearTimeout(this.timer);
    // A shared reason for completed calls: abort() without one builds a DOMException per call
    // (about 1% of mesh CPU in the profile).
    this.ctx.abort(err ?? CALL_COMPLETED);
    this.drainWaiter?.(); // a stream blocked on a slow reader stops producing
  }

  /** The peer went away before the call ended: the handler's signal aborts with `reason()`. */
  protected peerClosed(reason: () => ConnectError): void {
    this.drainWaiter?.();
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.ctx.abort(reason());
  }
}

/**
 * The one request message of a call in the 5-byte envelope gRPC and Connect streaming share. The
 * protocols answer a missing or extra message with different codes, and name their own
 * compression header.
 */
export function unenvelope(body: Buffer, opts: { kind: string; wrongCount: Code; encodingHeader: string; readMaxBytes?: number }): Uint8Array {
  const { kind, wrongCount } = opts;
  if (body.length === 0) throw new ConnectError(`protocol error: missing input message for ${kind} method`, wrongCount);
  if (body.length < 5) throw new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
  if ((body[0] as number) & 1) throw new ConnectError(`protocol error: received compressed message without ${opts.encodingHeader}`, Code.Internal);
  const len = body.readUInt32BE(1);
  if (opts.readMaxBytes !== undefined && len > opts.readMaxBytes) throw new ConnectError(`message size ${len} is larger than configured readMaxBytes ${opts.readMaxBytes}`, Code.ResourceExhausted);
  if (5 + len > body.length) throw new ConnectError(`protocol error: promised ${len} bytes in enveloped message, got ${body.length - 5} bytes`, Code.InvalidArgument);
  if (5 + len < body.length) throw new ConnectError(`protocol error: received extra input message for ${kind} method`, wrongCount);
  return body.subarray(5);
}
