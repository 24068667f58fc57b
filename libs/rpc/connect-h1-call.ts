// One Connect call over an undici Pool (HTTP/1.1), driven through undici's dispatch handler API: no
// Readable body stream or fetch Response per call. The deadline is enforced here as well as sent
// (connect-timeout-ms): a stalled peer ends in DeadlineExceeded, and the socket is dropped.
import { fromBinary, type DescMessage } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeFromHttpStatus, endStreamFlag, endStreamFromJson, errorFromJsonBytes } from "@connectrpc/connect/protocol-connect";
import type { Dispatcher, Pool } from "undici";
import type { H1Balancer } from "./h1-balancer.ts";

type RawHeaders = Buffer[];

/** Errors of the connection rather than the call: the peer is (momentarily) not there. */
const UNAVAILABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_SOCKET", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_CLOSED", "UND_ERR_DESTROYED"]);
/** The request never reached a server: safe to send again to another address. */
const NOT_SENT_CODES = new Set(["ECONNREFUSED", "UND_ERR_CONNECT_TIMEOUT", "EHOSTUNREACH", "ENETUNREACH"]);

const errCode = (e: unknown): string | undefined => (e instanceof Error ? (e as { code?: unknown }).code : undefined) as string | undefined;

function headersOf(raw: RawHeaders | undefined): Headers {
  const h = new Headers();
  if (raw) for (let i = 0; i + 1 < raw.length; i += 2) h.append((raw[i] as Buffer).toString("latin1"), (raw[i + 1] as Buffer).toString("latin1"));
  return h;
}

function contentTypeOf(raw: RawHeaders): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = raw[i] as Buffer;
    if (k.length === 12 && k.toString("latin1").toLowerCase() === "content-type") return (raw[i + 1] as Buffer).toString("latin1");
  }
  return undefined;
}

/** What a call needs besides its body: the path, request headers, the deadline and the caller's signal. */
export interface CallSetup {
  readonly balancer: H1Balancer;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly timeoutMs: number | undefined;
  readonly signal: AbortSignal | undefined;
  readonly onHeader: ((h: Headers) => void) | undefined;
  readonly onTrailer: ((h: Headers) => void) | undefined;
}

/**
 * The common part of unary and streaming calls: dispatch (with one retry on another address when the
 * connection was refused), deadline, cancel, and error mapping. Subclasses read the response.
 */
abstract class H1Call implements Dispatcher.DispatchHandlers {
  protected done = false;
  protected status = 0;
  protected raw: RawHeaders | undefined;
  private abortFn: ((err?: Error) => void) | undefined;
  private abortReason: ConnectError | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pool: Pool | undefined;
  private attempt = 0;
  private readonly onAbort: (() => void) | undefined;

  constructor(
    protected readonly setup: CallSetup,
    private readonly body: Buffer,
  ) {
    const { timeoutMs, signal } = setup;
    if (timeoutMs !== undefined) this.timer = setTimeout(() => this.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded)), Math.max(0, timeoutMs));
    if (signal) {
      this.onAbort = () => this.abort(ConnectError.from(signal.reason, Code.Canceled));
      signal.addEventListener("abort", this.onAbort, { once: true });
    }
  }

  start(): void {
    if (this.done) return;
    let p: Pool | Promise<Pool>;
    try {
      p = this.setup.balancer.pick(this.pool);
    } catch (e) {
      this.settle(new ConnectError(e instanceof Error ? e.message : String(e), Code.Unavailable));
      return;
    }
    if (p instanceof Promise) p.then((pool) => this.dispatch(pool), (e: unknown) => this.settle(new ConnectError(e instanceof Error ? e.message : String(e), Code.Unavailable)));
    else this.dispatch(p);
  }

  private dispatch(pool: Pool): void {
    if (this.done) return;
    this.pool = pool;
    this.status = 0;
    this.raw = undefined;
    pool.dispatch({ path: this.setup.path, method: "POST", headers: this.setup.headers, body: this.body }, this);
  }

  /** Deadline or cancel: the call ends now, the request (if sent) is aborted and its socket dropped. */
  protected abort(reason: ConnectError): void {
    if (this.done) return;
    this.abortReason = reason;
    this.settle(reason);
    this.abortFn?.(reason);
  }

  /** Ends the call once: clears the deadline and the abort listener, then `finish` delivers the outcome. */
  protected settle(err: ConnectError | undefined): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    if (this.onAbort) this.setup.signal?.removeEventListener("abort", this.onAbort);
    this.finish(err);
  }

  protected abstract finish(err: ConnectError | undefined): void;

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    if (this.abortReason) abort(this.abortReason);
  }

  onHeaders(statusCode: number, headers: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx
    this.status = statusCode;
    this.raw = headers;
    return this.headers(resume);
  }

  protected headers(_resume: () => void): boolean {
    return true;
  }

  abstract onData(chunk: Buffer): boolean;
  abstract onComplete(trailers: string[] | null): void;

  onError(err: Error): void {
    if (this.done) return;
    const code = errCode(err);
    const pool = this.pool;
    if (pool && code !== undefined && UNAVAILABLE_CODES.has(code)) {
      const notSent = NOT_SENT_CODES.has(code);
      this.setup.balancer.connectionFailed(pool, notSent);
      if (notSent && this.attempt === 0 && this.setup.balancer.hasAlternative(pool)) {
        this.attempt = 1;
        this.start();
        return;
      }
    }
    this.settle(code !== undefined && UNAVAILABLE_CODES.has(code) ? new ConnectError(err.message, Code.Unavailable, undefined, undefined, err) : ConnectError.from(err, Code.Internal));
  }

  /** A non-200 answer (or a wrong content type) as the ConnectError it stands for. */
  protected httpError(body: Buffer | undefined): ConnectError {
    const metadata = headersOf(this.raw);
    const fallback = new ConnectError(`HTTP ${this.status}`, codeFromHttpStatus(this.status), metadata);
    if (this.status === 200) return new ConnectError(`unexpected response content type ${String(metadata.get("content-type"))}`, Code.Internal, metadata);
    const ct = metadata.get("content-type") ?? "";
    if (body && body.length > 0 && ct.startsWith("application/json")) {
      try {
        return errorFromJsonBytes(body, metadata, fallback);
      } catch {
        return fallback;
      }
    }
    return fallback;
  }
}

/** Unary: the whole body, then one message (200 application/proto) or a JSON error. */
export class UnaryH1Call extends H1Call {
  private chunks: Buffer[] = [];
  private size = 0;
  readonly result: Promise<unknown>;
  private resolve!: (v: unknown) => void;
  private reject!: (e: ConnectError) => void;
  private value: unknown;

  constructor(
    setup: CallSetup,
    body: Buffer,
    private readonly output: DescMessage,
  ) {
    super(setup, body);
    this.result = new Promise((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
  }

  protected override finish(err: ConnectError | undefined): void {
    if (err) this.reject(err);
    else this.resolve(this.value);
  }

  onData(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    this.size += chunk.length;
    return true;
  }

  onComplete(): void {
    if (this.done) return;
    const body = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.size);
    const raw = this.raw ?? [];
    if (this.status !== 200 || contentTypeOf(raw) !== "application/proto") {
      this.settle(this.httpError(body));
      return;
    }
    const { onHeader, onTrailer } = this.setup;
    if (onHeader || onTrailer) {
      const all = headersOf(raw);
      const h = new Headers();
      const t = new Headers();
      all.forEach((v, k) => (k.startsWith("trailer-") ? t.append(k.slice(8), v) : h.append(k, v)));
      onHeader?.(h);
      onTrailer?.(t);
    }
    try {
      this.value = fromBinary(this.output, body);
    } catch (e) {
      this.settle(new ConnectError(`parse binary: ${e instanceof Error ? e.message : String(e)}`, Code.Internal));
      return;
    }
    this.settle(undefined);
  }
}

/** `{}`, optionally with JSON whitespace around or inside. */
function isEmptyJsonObject(b: Uint8Array): boolean {
  let i = 0;
  let n = b.length;
  while (i < n && isJsonSpace(b[i] as number)) i++;
  while (n > i && isJsonSpace(b[n - 1] as number)) n--;
  if (n - i < 2 || b[i] !== 0x7b || b[n - 1] !== 0x7d) return false;
  for (let j = i + 1; j < n - 1; j++) if (!isJsonSpace(b[j] as number)) return false;
  return true;
}

const isJsonSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

const HIGH_WATER = 32;
const END = Symbol("end");

/** Server-streaming: enveloped messages, then the end-of-stream envelope (flag 0x02) with the status. */
export class StreamH1Call extends H1Call {
  private buf: Buffer | undefined;
  private readonly queue: Uint8Array[] = [];
  private waiter: (() => void) | undefined;
  private resumeFn: (() => void) | undefined;
  private paused = false;
  private error: ConnectError | undefined;
  private ended = false;
  private errBody: Buffer[] = [];
  private sawEnd = false;
  /** 200 with the Connect streaming content type: the body is enveloped messages. */
  private ok = false;

  constructor(
    setup: CallSetup,
    body: Buffer,
    private readonly output: DescMessage,
  ) {
    super(setup, body);
  }

  protected override finish(err: ConnectError | undefined): void {
    this.error = err;
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  protected override headers(resume: () => void): boolean {
    this.resumeFn = resume;
    this.ok = this.status === 200 && contentTypeOf(this.raw ?? []) === "application/connect+proto";
    if (this.ok) this.setup.onHeader?.(headersOf(this.raw));
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.done) return true;
    if (!this.ok) {
      this.errBody.push(chunk);
      return true;
    }
    let b = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    while (b.length >= 5) {
      const len = b.readUInt32BE(1);
      if (b.length < 5 + len) break;
      const flags = b[0] as number;
      const data = b.subarray(5, 5 + len);
      b = b.subarray(5 + len);
      if (flags & endStreamFlag) {
        this.sawEnd = true;
        // The usual end of stream is `{}` (no error, no trailers): endStreamFromJson builds a
        // ConnectError (a stack trace), a TextDecoder and Headers for every call.
        if (isEmptyJsonObject(data)) {
          this.setup.onTrailer?.(new Headers());
          return true;
        }
        try {
          const es = endStreamFromJson(data);
          this.setup.onTrailer?.(es.metadata);
          if (es.error) this.settle(es.error);
        } catch (e) {
          this.settle(ConnectError.from(e, Code.Internal));
        }
        return true;
      }
      if (flags & 1) {
        this.abort(new ConnectError("protocol error: received compressed message without connect-content-encoding", Code.Internal));
        return true;
      }
      this.queue.push(data);
    }
    this.buf = b.length > 0 ? b : undefined;
    this.wake();
    if (this.queue.length >= HIGH_WATER) {
      this.paused = true;
      return false;
    }
    return true;
  }

  onComplete(): void {
    if (this.done) return;
    if (!this.ok) {
      this.settle(this.httpError(Buffer.concat(this.errBody)));
      return;
    }
    this.settle(this.sawEnd ? undefined : new ConnectError("protocol error: missing end stream", Code.Internal));
  }

  /** The next message, END when the stream ended well; throws its error otherwise. */
  async next(): Promise<unknown> {
    for (;;) {
      const data = this.queue.shift();
      if (data !== undefined) {
        if (this.paused && this.queue.length < HIGH_WATER / 2) {
          this.paused = false;
          this.resumeFn?.();
        }
        try {
          return fromBinary(this.output, data);
        } catch (e) {
          this.abort(new ConnectError(`parse binary: ${e instanceof Error ? e.message : String(e)}`, Code.Internal));
          throw this.error;
        }
      }
      if (this.ended) {
        if (this.error) throw this.error;
        return END;
      }
      await new Promise<void>((r) => (this.waiter = r));
    }
  }

  /** The consumer stopped early: drop the request so the server stops producing. */
  cancel(): void {
    // Called after every stream (iterate's finally): no error (a stack trace) for one that ended.
    if (this.done) return;
    this.abort(new ConnectError("the consumer stopped reading", Code.Canceled));
  }
}

export async function* iterate(call: StreamH1Call): AsyncGenerator<unknown> {
  try {
    for (;;) {
      const m = await call.next();
      if (m === END) return;
      yield m;
    }
  } finally {
    call.cancel();
  }
}
