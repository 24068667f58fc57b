// Mesh mode client on node:http2 directly: the Connect `Client<S>` shape (callers don't change),
// speaking binary gRPC (application/grpc+proto) with none of grpc-js's channel/filter/metadata
// machinery per call; the client-side twin of libs/server/grpc-fast-path.ts. Same behaviour as
// grpc-js-client.ts: one session per resolved address shared by every service's client, round robin,
// keepalive pings, deadlines, no message size cap (libs/rpc/client-bench.ts measures the CPU).
import type http2 from "node:http2";
import { create, fromBinary, isMessage, toBinary, type DescMessage, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type CallOptions, type Client } from "@connectrpc/connect";
import { traceHeaders } from "#libs/tracing/tracing.ts";
import { encodeFrame, grpcTimeout } from "./grpc-wire.ts";
import { Http2Call, type CallSink } from "./http2-call.ts";
import { Http2Channel } from "./http2-channel.ts";

const channels = new Map<string, Http2Channel>();

function channelFor(address: string): Http2Channel {
  let c = channels.get(address);
  if (!c) channels.set(address, (c = new Http2Channel(address)));
  return c;
}

/** Closes every shared channel (tests, shutdown). */
export function closeHttp2Channels(): void {
  for (const c of channels.values()) c.close();
  channels.clear();
}

/** The request as one frame; messages built by our code are encoded as they are, init objects made into messages. */
function requestFrame(schema: DescMessage, value: unknown): Buffer {
  const msg = isMessage(value, schema) ? value : create(schema, value as never);
  return encodeFrame(toBinary(schema, msg));
}

function requestHeaders(path: string, opts: CallOptions | undefined, timeoutMs: number | undefined): http2.OutgoingHttpHeaders {
  const h: http2.OutgoingHttpHeaders = { ":method": "POST", ":path": path, "content-type": "application/grpc+proto", te: "trailers" };
  if (timeoutMs !== undefined) h["grpc-timeout"] = grpcTimeout(timeoutMs);
  if (opts?.headers) new Headers(opts.headers).forEach((v, k) => (h[k] = v));
  // W3C trace context of the calling span (nothing when tracing is off).
  const carrier = traceHeaders();
  if (carrier) for (const k in carrier) h[k] = carrier[k];
  return h;
}

function unary(ch: Http2Channel, path: string, input: DescMessage, output: DescMessage, defaultTimeoutMs: number | undefined) {
  return (req: unknown, opts?: CallOptions): Promise<unknown> => {
    const signal = opts?.signal;
    if (signal?.aborted) return Promise.reject(ConnectError.from(signal.reason, Code.Canceled));
    let body: Buffer;
    try {
      body = requestFrame(input, req);
    } catch (e) {
      return Promise.reject(ConnectError.from(e, Code.Internal));
    }
    const timeoutMs = opts?.timeoutMs ?? defaultTimeoutMs;
    return new Promise((resolve, reject) => {
      let payload: Buffer | undefined;
      let extra = false;
      const sink: CallSink = {
        message(p) {
          if (payload === undefined) payload = p;
          else extra = true;
        },
        end(err) {
          if (err) return reject(err);
          if (payload === undefined) return reject(new ConnectError("protocol error: missing output message for unary method", Code.Unimplemented));
          if (extra) return reject(new ConnectError("protocol error: received extra output message for unary method", Code.Unimplemented));
          try {
            resolve(fromBinary(output, payload));
          } catch (e) {
            reject(new ConnectError(`Failed to parse server response: ${e instanceof Error ? e.message : String(e)}`, Code.Internal));
          }
        },
      };
      new Http2Call(ch, requestHeaders(path, opts, timeoutMs), body, timeoutMs, opts, sink);
    });
  };
}

// A consumer this many messages behind pauses the stream (HTTP/2 flow control holds the server).
const HIGH_WATER = 32;

/** The messages of one server-streaming call, as the caller iterates them; the call starts on the first next(). */
class ServerStream implements AsyncIterableIterator<unknown>, CallSink {
  private call: Http2Call | undefined;
  private started = false;
  private queue: Buffer[] = [];
  private head = 0;
  private ended = false;
  private error: ConnectError | undefined;
  private paused = false;
  private waiter: { resolve: (r: IteratorResult<unknown>) => void; reject: (e: unknown) => void } | undefined;

  constructor(
    private readonly start: (sink: CallSink) => Http2Call | undefined,
    private readonly output: DescMessage,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  message(p: Buffer): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      this.deliver(p, w.resolve, w.reject);
      return;
    }
    this.queue.push(p);
    if (!this.paused && this.queue.length - this.head >= HIGH_WATER) {
      this.paused = true;
      this.call?.pause();
    }
  }

  end(err: ConnectError | undefined): void {
    this.ended = true;
    this.error = err;
    const w = this.waiter;
    if (!w) return;
    this.waiter = undefined;
    if (err) w.reject(err);
    else w.resolve({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<unknown>> {
    if (!this.started) {
      this.started = true;
      this.call = this.start(this);
    }
    if (this.head < this.queue.length) {
      const p = this.queue[this.head++] as Buffer;
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
        if (this.paused) {
          this.paused = false;
          this.call?.resume();
        }
      }
      return new Promise((resolve, reject) => this.deliver(p, resolve, reject));
    }
    if (this.ended) {
      const err = this.error;
      this.error = undefined;
      return err ? Promise.reject(err) : Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  private deliver(p: Buffer, resolve: (r: IteratorResult<unknown>) => void, reject: (e: unknown) => void): void {
    try {
      resolve({ value: fromBinary(this.output, p), done: false });
    } catch (e) {
      const err = new ConnectError(`Failed to parse server response: ${e instanceof Error ? e.message : String(e)}`, Code.Internal);
      this.call?.cancel(err);
      this.error = undefined;
      reject(err);
    }
  }

  /** The consumer stopped early (break, throw): end the call so the server stops producing. */
  return(): Promise<IteratorResult<unknown>> {
    this.call?.cancel(new ConnectError("the consumer stopped reading", Code.Canceled));
    this.ended = true;
    this.error = undefined;
    this.queue = [];
    this.head = 0;
    return Promise.resolve({ value: undefined, done: true });
  }
}

function serverStream(ch: Http2Channel, path: string, input: DescMessage, output: DescMessage, defaultTimeoutMs: number | undefined) {
  return (req: unknown, opts?: CallOptions): AsyncIterable<unknown> => {
    const timeoutMs = opts?.timeoutMs ?? defaultTimeoutMs;
    return new ServerStream((sink) => {
      let body: Buffer;
      try {
        body = requestFrame(input, req);
      } catch (e) {
        sink.end(ConnectError.from(e, Code.Internal));
        return undefined;
      }
      return new Http2Call(ch, requestHeaders(path, opts, timeoutMs), body, timeoutMs, opts, sink);
    }, output);
  };
}

/**
 * A Connect `Client<S>` whose calls go over the shared HTTP/2 sessions for `address`; every call gets
 * `defaultTimeoutMs` as its deadline unless the caller passes its own timeoutMs.
 */
export function createHttp2Client<S extends DescService>(service: S, address: string, opts: { defaultTimeoutMs?: number } = {}): Client<S> {
  const ch = channelFor(address);
  const client: Record<string, unknown> = {};
  for (const method of service.methods as readonly DescMethod[]) {
    const path = `/${service.typeName}/${method.name}`;
    if (method.methodKind === "unary") client[method.localName] = unary(ch, path, method.input, method.output, opts.defaultTimeoutMs);
    else if (method.methodKind === "server_streaming") client[method.localName] = serverStream(ch, path, method.input, method.output, opts.defaultTimeoutMs);
    else {
      const kind = method.methodKind;
      client[method.localName] = () => {
        throw new ConnectError(`${kind} RPCs are not supported by the http2 mesh client`, Code.Unimplemented);
      };
    }
  }
  return client as Client<S>;
}
