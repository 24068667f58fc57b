// A lean HTTP/1.1 client pool for plain-text (h2c-less, TLS-less) RPC on the mesh: keep-alive
// sockets to one address, one request at a time per socket, the response parsed here (status line,
// headers, Content-Length / chunked / read-until-close bodies). It speaks undici's dispatch-handler
// protocol, so connect-h1-call.ts drives it and an undici Pool (still used for https) alike. Why:
// in the 7-process mesh the edge spent ~30% of its CPU inside undici per call (Request objects,
// header validation, the wasm parser's per-header callbacks), on the critical path of every request.
import net from "node:net";

/** Response header names and values, alternating (undici gives Buffers, this pool strings). */
export type RawHeaderList = readonly (Buffer | string)[];

/** The subset of undici's DispatchHandlers the calls implement. */
export interface H1Handler {
  onConnect(abort: (err?: Error) => void): void;
  onHeaders(statusCode: number, headers: RawHeaderList, resume: () => void): boolean;
  onData(chunk: Buffer): boolean;
  onComplete(trailers: string[] | null): void;
  onError(err: Error): void;
}

export interface H1Request {
  readonly path: string;
  readonly method: "POST";
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** What a balancer endpoint dispatches on: this pool, or an undici Pool (TLS). */
export interface H1Dispatcher {
  dispatch(req: H1Request, handler: H1Handler): boolean;
  close(): Promise<void>;
  destroy(): Promise<void>;
}

export interface H1PoolOptions {
  /** Idle sockets close after this long (before the server's keep-alive ends them). */
  readonly keepAliveMs: number;
  readonly connectTimeoutMs: number;
}

/** An error with a code the calls map (connect-h1-call.ts: UNAVAILABLE_CODES, NOT_SENT_CODES). */
function coded(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

const CRLF2 = Buffer.from("\r\n\r\n");
/** Header bytes we accept before the blank line (node:http's default limit). */
const MAX_HEAD = 16 * 1024;
/** A header value must not end the line: no CR, LF or NUL (undici and node:http refuse them too). */
const BAD_VALUE = /[\r\n\0]/;
/** The idle sweep looks at sockets this often; a socket idles at most keepAliveMs + this. */
const SWEEP_MS = 1_000;
/** The server's `keep-alive: timeout=N` hint, less this margin, caps our idle time (as undici does). */
const HINT_MARGIN_MS = 1_000 + SWEEP_MS;

type BodyMode = "length" | "chunked" | "close" | "none";

class Conn {
  readonly socket: net.Socket;
  handler: H1Handler | undefined;
  connected = false;
  idleSince = 0;
  idleLimit: number;
  private buf: Buffer | undefined;
  private inBody = false;
  private mode: BodyMode = "none";
  private left = 0;
  /** chunked: 0 = size line next, 1 = data (left bytes), 2 = CRLF after data, 3 = trailer lines. */
  private chunkState = 0;
  private keepAlive = true;
  private dead = false;
  private connectTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: H1Pool,
    host: string,
    port: number,
  ) {
    this.idleLimit = pool.opts.keepAliveMs;
    const s = net.connect({ host, port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 });
    this.socket = s;
    this.connectTimer = setTimeout(() => this.fail(coded("connect timeout", "UND_ERR_CONNECT_TIMEOUT")), pool.opts.connectTimeoutMs);
    s.once("connect", () => {
      this.connected = true;
      clearTimeout(this.connectTimer);
    });
    s.on("data", (chunk: Buffer) => this.onData(chunk));
    s.on("end", () => this.onEnd());
    s.on("error", (e: Error) => this.fail(e));
    s.on("close", () => this.fail(coded("other side closed", "UND_ERR_SOCKET")));
  }

  /** Writes one request; the answer goes to `handler`. */
  send(req: H1Request, handler: H1Handler, hostHeader: string): void {
    this.handler = handler;
    this.inBody = false;
    this.keepAlive = true;
    let head = `${req.method} ${req.path} HTTP/1.1\r\n`;
    let host = false;
    for (const k in req.headers) {
      const v = req.headers[k] as string;
      if (BAD_VALUE.test(v) || BAD_VALUE.test(k)) {
        this.pool.release(this);
        handler.onError(coded(`invalid header ${k}`, "UND_ERR_INVALID_ARG"));
        return;
      }
      if (k === "host") host = true;
      head += `${k}: ${v}\r\n`;
    }
    if (!host) head += `host: ${hostHeader}\r\n`;
    head += `content-length: ${req.body.length}\r\n\r\n`;
    handler.onConnect((err) => this.fail(err ?? coded("aborted", "UND_ERR_ABORTED")));
    if (this.handler !== handler) return; // aborted in onConnect
    const s = this.socket;
    s.cork();
    s.write(head, "latin1");
    if (req.body.length > 0) s.write(req.body);
    s.uncork();
  }

  private onData(chunk: Buffer): void {
    if (!this.handler) {
      // Bytes with no request outstanding: the server broke the protocol; the socket is unusable.
      this.fail(coded("unexpected data from the server", "UND_ERR_SOCKET"));
      return;
    }
    let b = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    this.buf = undefined;
    while (b.length > 0 && this.handler) {
      if (!this.inBody) {
        const end = b.indexOf(CRLF2);
        if (end < 0) {
          if (b.length > MAX_HEAD) this.fail(coded("response headers too large", "UND_ERR_HEADERS_OVERFLOW"));
          else this.buf = b;
          return;
        }
        const ok = this.head(b.toString("latin1", 0, end));
        b = b.subarray(end + 4);
        if (!ok) return;
        continue;
      }
      b = this.body(b);
    }
    if (b.length > 0 && !this.dead) this.fail(coded("unexpected data after the response", "UND_ERR_SOCKET"));
  }

  /** Status line and headers; false when the call ended (error) or the socket is gone. */
  private head(text: string): boolean {
    const lines = text.split("\r\n");
    const status = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0] ?? "");
    if (!status) {
      this.fail(coded("invalid status line", "UND_ERR_SOCKET"));
      return false;
    }
    const code = Number(status[2]);
    if (code < 200) return true; // 1xx: the real answer follows
    const raw: string[] = [];
    let length = -1;
    let chunked = false;
    this.keepAlive = status[1] === "1";
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const c = line.indexOf(":");
      if (c <= 0) continue;
      const name = line.slice(0, c).trim();
      const value = line.slice(c + 1).trim();
      raw.push(name, value);
      const lower = name.length === 14 || name.length === 17 || name.length === 10 ? name.toLowerCase() : "";
      if (lower === "content-length") length = Number(value);
      else if (lower === "transfer-encoding") chunked = value.toLowerCase().includes("chunked");
      else if (lower === "connection") {
        const v = value.toLowerCase();
        if (v.includes("close")) this.keepAlive = false;
        else if (v.includes("keep-alive")) this.keepAlive = true;
      } else if (lower === "keep-alive") {
        const t = /timeout=(\d+)/i.exec(value);
        if (t) this.idleLimit = Math.max(0, Math.min(this.pool.opts.keepAliveMs, Number(t[1]) * 1000 - HINT_MARGIN_MS));
      }
    }
    this.inBody = true;
    if (chunked) {
      this.mode = "chunked";
      this.chunkState = 0;
    } else if (length >= 0 && Number.isFinite(length)) {
      this.mode = "length";
      this.left = length;
    } else if (code === 204 || code === 304) {
      this.mode = "length";
      this.left = 0;
    } else {
      this.mode = "close";
      this.keepAlive = false;
    }
    const h = this.handler as H1Handler;
    const go = h.onHeaders(code, raw, () => this.socket.resume());
    if (go === false) this.socket.pause();
    if (this.handler !== h) return false; // the call ended in onHeaders
    if (this.mode === "length" && this.left === 0) this.complete();
    return true;
  }

  /** Consumes body bytes from `b`; returns what is left (the next response's, or a partial line). */
  private body(b: Buffer): Buffer {
    const h = this.handler as H1Handler;
    if (this.mode === "close") {
      this.deliver(h, b);
      return b.subarray(b.length);
    }
    if (this.mode === "length") {
      const n = Math.min(this.left, b.length);
      if (n > 0) this.deliver(h, b.subarray(0, n));
      this.left -= n;
      if (this.left === 0 && this.handler === h) this.complete();
      return b.subarray(n);
    }
    // chunked
    while (b.length > 0 && this.handler === h) {
      if (this.chunkState === 1) {
        const n = Math.min(this.left, b.length);
        this.deliver(h, b.subarray(0, n));
        this.left -= n;
        b = b.subarray(n);
        if (this.left === 0) this.chunkState = 2;
        continue;
      }
      const eol = b.indexOf("\r\n");
      if (eol < 0) {
        if (b.length > MAX_HEAD) this.fail(coded("invalid chunked encoding", "UND_ERR_SOCKET"));
        else this.buf = b;
        return b.subarray(b.length);
      }
      const line = b.toString("latin1", 0, eol);
      b = b.subarray(eol + 2);
      if (this.chunkState === 2) {
        if (line !== "") {
          this.fail(coded("invalid chunked encoding", "UND_ERR_SOCKET"));
          return b.subarray(b.length);
        }
        this.chunkState = 0;
      } else if (this.chunkState === 0) {
        const size = parseInt(line, 16);
        if (!(size >= 0)) {
          this.fail(coded("invalid chunk size", "UND_ERR_SOCKET"));
          return b.subarray(b.length);
        }
        if (size === 0) this.chunkState = 3;
        else {
          this.left = size;
          this.chunkState = 1;
        }
      } else if (line === "") {
        // The blank line after the (ignored) trailer fields: the response is complete.
        this.complete();
        return b;
      }
    }
    return b;
  }

  private deliver(h: H1Handler, chunk: Buffer): void {
    if (chunk.length > 0 && h.onData(chunk) === false) this.socket.pause();
  }

  private complete(): void {
    const h = this.handler as H1Handler;
    this.handler = undefined;
    this.inBody = false;
    if (this.socket.isPaused()) this.socket.resume();
    if (this.keepAlive) this.pool.release(this);
    else this.destroy();
    h.onComplete([]);
  }

  private onEnd(): void {
    if (this.handler && this.inBody && this.mode === "close") {
      this.keepAlive = false;
      this.complete();
      return;
    }
    this.fail(coded("other side closed", "UND_ERR_SOCKET"));
  }

  /** The socket is done for: the call on it (if any) fails with `err`. */
  fail(err: Error): void {
    const h = this.handler;
    this.handler = undefined;
    this.destroy();
    h?.onError(err);
  }

  destroy(): void {
    if (this.dead) return;
    this.dead = true;
    clearTimeout(this.connectTimer);
    this.pool.forget(this);
    this.socket.destroy();
  }

  get isDead(): boolean {
    return this.dead;
  }
}

export class H1Pool implements H1Dispatcher {
  private readonly idle: Conn[] = [];
  private readonly all = new Set<Conn>();
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;
  private closing: (() => void) | undefined;
  private readonly hostHeader: string;

  constructor(
    private readonly host: string,
    private readonly port: number,
    readonly opts: H1PoolOptions,
  ) {
    this.hostHeader = net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
  }

  dispatch(req: H1Request, handler: H1Handler): boolean {
    if (this.closed) {
      handler.onError(coded("the pool is closed", "UND_ERR_CLOSED"));
      return false;
    }
    // Most recently used first: it is the likeliest to be warm and the least likely to be timing out.
    let c = this.idle.pop();
    while (c && c.isDead) c = this.idle.pop();
    if (!c) {
      c = new Conn(this, this.host, this.port);
      this.all.add(c);
      this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS).unref();
    }
    c.send(req, handler, this.hostHeader);
    return true;
  }

  /** A socket finished its call and may carry the next one. */
  release(c: Conn): void {
    if (c.isDead) return;
    if (this.closed) {
      c.destroy();
      return;
    }
    c.idleSince = Date.now();
    this.idle.push(c);
  }

  forget(c: Conn): void {
    this.all.delete(c);
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
    if (this.all.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
      this.closing?.();
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const c of [...this.idle]) if (now - c.idleSince >= c.idleLimit) c.destroy();
  }

  /** Lets calls in flight finish, then closes every socket. */
  close(): Promise<void> {
    this.closed = true;
    for (const c of [...this.idle]) c.destroy();
    if (this.all.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.closing = resolve));
  }

  /** Closes every socket now; calls in flight fail. */
  destroy(): Promise<void> {
    this.closed = true;
    for (const c of [...this.all]) c.fail(coded("the pool was destroyed", "UND_ERR_DESTROYED"));
    return Promise.resolve();
  }
}
