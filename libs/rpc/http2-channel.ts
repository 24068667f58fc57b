// Connections for the node:http2 mesh client (http2-client.ts): one channel per target address, one
// HTTP/2 session per resolved IP, calls spread round robin over the sessions that are connected (as
// grpc-js's round_robin). With a headless Service (deploy/k8s/base/*-headless) the DNS name resolves
// to every pod, so the name is re-resolved every 30 s and whenever a session ends (servers end
// connections after a while, rpc-server.ts): a replica the HPA adds takes calls soon after.
import { lookup } from "node:dns/promises";
import http2 from "node:http2";
import { isIP } from "node:net";
import tls from "node:tls";
import { Code, ConnectError } from "@connectrpc/connect";

const CONNECT_TIMEOUT_MS = 20_000;
const KEEPALIVE_MS = 30_000;
const KEEPALIVE_TIMEOUT_MS = 10_000;
const IDLE_MS = 300_000;
const RESOLVE_EVERY_MS = 30_000;
// A session's end asks for a new resolution, but not more often than this.
const RESOLVE_MIN_GAP_MS = 1_000;
const BACKOFF_MIN_MS = 1_000;
const BACKOFF_MAX_MS = 20_000;

/** One HTTP/2 session. `ready` once the socket is connected; `broken` once it must take no new calls. */
export class Conn {
  ready = false;
  broken = false;
  /** Closed for idleness: nothing to reconnect for until the next call. */
  idle = false;
  /** The error that broke the session (connect failure, socket error), for the calls' messages. */
  error: Error | undefined;
  private active = 0;
  private lastUsed = Date.now();
  private pinger: NodeJS.Timeout | undefined;

  constructor(
    readonly session: http2.ClientHttp2Session,
    private readonly sub: Subchannel,
  ) {
    // Connecting keeps the process alive (a call may be waiting for it); a connect that hangs (a
    // dropped SYN) gives up after 20 s, as grpc-js does, so the address goes into backoff.
    const connectTimer = setTimeout(() => {
      this.error ??= new Error(`connect timed out after ${CONNECT_TIMEOUT_MS} ms`);
      session.destroy();
    }, CONNECT_TIMEOUT_MS).unref();
    session.on("connect", () => {
      clearTimeout(connectTimer);
      this.ready = true;
      if (this.active === 0) session.unref();
      sub.connected(this);
    });
    session.on("error", (e: Error) => {
      this.error ??= e;
      this.break();
    });
    session.on("goaway", () => this.break());
    session.on("close", () => {
      clearTimeout(connectTimer);
      this.break();
      clearInterval(this.pinger);
    });
    // The keepalive tick also closes the session after IDLE_MS without calls (servers and proxies
    // drop idle connections; ours goes first, gracefully). Not session.setTimeout: that refreshes a
    // timer on every frame of every call.
    this.pinger = setInterval(() => this.tick(), KEEPALIVE_MS).unref();
  }

  /** A call starts on this session: the process stays alive while calls are in flight. */
  acquire(): void {
    if (this.active++ === 0) this.session.ref();
  }

  release(): void {
    if (--this.active === 0) {
      this.lastUsed = Date.now();
      if (!this.session.destroyed) this.session.unref();
    }
  }

  /** Takes no new calls from now on (closing, or it refused a stream); the next pick opens another. */
  retire(): void {
    this.break();
  }

  private break(): void {
    if (this.broken) return;
    this.broken = true;
    this.sub.lost(this);
  }

  /** Keepalive while calls are in flight: a peer that does not answer a ping within 10 s is gone. */
  private tick(): void {
    if (!this.ready || this.session.destroyed) return;
    if (this.active === 0) {
      if (Date.now() - this.lastUsed >= IDLE_MS) {
        this.idle = true;
        this.retire();
        this.session.close();
      }
      return;
    }
    const timer = setTimeout(() => {
      this.error ??= new Error("keepalive ping timed out");
      this.session.destroy();
    }, KEEPALIVE_TIMEOUT_MS).unref();
    try {
      this.session.ping(() => clearTimeout(timer));
    } catch {
      clearTimeout(timer);
    }
  }
}

/** One resolved address and its current session. */
class Subchannel {
  conn: Conn | undefined;
  failedUntil = 0;
  private backoffMs = BACKOFF_MIN_MS;
  lastError: Error | undefined;

  constructor(
    readonly ip: string,
    readonly port: number,
    private readonly ch: Http2Channel,
  ) {}

  get key(): string {
    return `${this.ip}|${this.port}`;
  }

  get ready(): boolean {
    const c = this.conn;
    return c !== undefined && c.ready && !c.broken;
  }

  get connecting(): boolean {
    const c = this.conn;
    return c !== undefined && !c.ready && !c.broken;
  }

  /** The current session, a new one if there is none usable. */
  connect(): Conn {
    const c = this.conn;
    if (c && !c.broken) return c;
    const conn = new Conn(this.ch.open(this.ip, this.port), this);
    this.conn = conn;
    return conn;
  }

  connected(c: Conn): void {
    if (c !== this.conn) return;
    this.failedUntil = 0;
    this.backoffMs = BACKOFF_MIN_MS;
    this.ch.changed();
  }

  lost(c: Conn): void {
    if (c !== this.conn) return;
    this.conn = undefined;
    if (!c.ready) {
      // Never connected: wait before trying this address again (others take the calls meanwhile).
      this.lastError = c.error;
      this.failedUntil = Date.now() + this.backoffMs;
      this.backoffMs = Math.min(BACKOFF_MAX_MS, this.backoffMs * 1.6);
    }
    this.ch.sessionEnded(this, c.idle ? undefined : c.ready ? 0 : this.failedUntil - Date.now());
  }

  close(): void {
    const c = this.conn;
    this.conn = undefined;
    if (c && !c.session.destroyed) c.session.close();
  }
}

interface Target {
  tls: boolean;
  /** Host name for TLS (SNI, certificate check) and resolution; undefined for static IP lists. */
  host: string | undefined;
  port: number;
  /** Addresses known without DNS (IP literals, `ipv4:` / `ipv6:` lists). */
  fixed: { ip: string; port: number }[] | undefined;
}

/** "host:port", "http(s)://host:port", "dns:///host:port", "ipv4:a:p,b:p" → what to connect to. */
export function parseTarget(address: string): Target {
  let rest = address.trim().replace(/\/+$/, "");
  let tlsOn = false;
  const scheme = /^(https?):\/\//i.exec(rest);
  if (scheme) {
    tlsOn = (scheme[1] as string).toLowerCase() === "https";
    rest = rest.slice(scheme[0].length);
  }
  const defaultPort = tlsOn ? 443 : 80;
  if (/^ipv[46]:/i.test(rest)) {
    const fixed = rest
      .slice(5)
      .split(",")
      .map((a) => hostPort(a, defaultPort));
    return { tls: tlsOn, host: undefined, port: fixed[0]?.port ?? defaultPort, fixed: fixed.map((f) => ({ ip: f.host, port: f.port })) };
  }
  rest = rest.replace(/^dns:(\/\/[^/]*\/)?/i, "");
  const { host, port } = hostPort(rest, defaultPort);
  return { tls: tlsOn, host, port, fixed: isIP(host) ? [{ ip: host, port }] : undefined };
}

function hostPort(s: string, defaultPort: number): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (v6) return { host: v6[1] as string, port: v6[2] ? Number(v6[2]) : defaultPort };
  const i = s.lastIndexOf(":");
  if (i > 0 && s.indexOf(":") === i) return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
  return { host: s, port: defaultPort };
}

/** All sessions to one target address. */
export class Http2Channel {
  private subs: Subchannel[] = [];
  private next = 0;
  private resolving: Promise<void> | undefined;
  private resolvedAt = 0;
  private resolveError: Error | undefined;
  private waiters: (() => void)[] = [];
  private closed = false;
  private readonly target: Target;

  constructor(readonly address: string) {
    this.target = parseTarget(address);
    if (this.target.fixed) this.apply(this.target.fixed);
  }

  /** A new session to one resolved address. */
  open(ip: string, port: number): http2.ClientHttp2Session {
    const t = this.target;
    const literal = ip.includes(":") ? `[${ip}]` : ip;
    if (!t.tls) return http2.connect(`http://${literal}:${port}`);
    const servername = t.host !== undefined && isIP(t.host) === 0 ? t.host : undefined;
    const authority = `https://${servername ?? literal}:${port}`;
    return http2.connect(authority, {
      createConnection: () => tls.connect({ host: ip, port, ALPNProtocols: ["h2"], ...(servername !== undefined ? { servername } : {}) }),
    });
  }

  /**
   * A connected session, round robin; a promise while none is connected yet. Throws Unavailable when
   * every address failed to connect (as grpc-js fails calls in TRANSIENT_FAILURE).
   */
  pick(exclude?: Conn): Conn | Promise<Conn> {
    if (this.closed) throw new ConnectError("channel closed", Code.Unavailable);
    if (this.target.fixed === undefined && Date.now() - this.resolvedAt >= RESOLVE_EVERY_MS) void this.resolve();
    const c = this.pickSync(exclude);
    return c ?? this.pickAsync(exclude);
  }

  private pickSync(exclude: Conn | undefined): Conn | undefined {
    const subs = this.subs;
    const n = subs.length;
    // The usual case: one address, connected.
    if (n === 1) {
      const s = subs[0] as Subchannel;
      if (s.ready && s.conn !== exclude) return s.conn;
    }
    let now = 0;
    for (let i = 0; i < n; i++) {
      const s = subs[(this.next + i) % n] as Subchannel;
      if (s.ready && s.conn !== exclude) {
        this.next = (this.next + i + 1) % n;
        return s.conn;
      }
    }
    // A retry prefers another session, but takes the same one when it is the only one still usable.
    if (exclude && exclude.ready && !exclude.broken) return exclude;
    // None connected: start connecting every address out of backoff (round robin connects to all).
    for (const s of subs) {
      if (s.conn || s.connecting) continue;
      if (s.failedUntil > (now ||= Date.now())) continue;
      s.connect();
    }
    return undefined;
  }

  private async pickAsync(exclude: Conn | undefined): Promise<Conn> {
    for (;;) {
      if (this.closed) throw new ConnectError("channel closed", Code.Unavailable);
      if (this.subs.length === 0) {
        await this.resolve();
        if (this.subs.length === 0) {
          const why = this.resolveError ? `: ${this.resolveError.message}` : "";
          throw new ConnectError(`no address for ${this.address}${why}`, Code.Unavailable);
        }
      }
      const c = this.pickSync(exclude);
      if (c) return c;
      if (!this.subs.some((s) => s.connecting)) {
        const err = this.subs.find((s) => s.lastError)?.lastError;
        throw new ConnectError(`No connection established to ${this.address}${err ? `. Last error: ${err.message}` : ""}`, Code.Unavailable);
      }
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** A session connected or failed: waiting picks look again. */
  changed(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }

  /**
   * A session ended: resolve the name again (soon, not in a loop) and wake waiting picks. With
   * several addresses the lost one reconnects by itself (after its backoff), as round robin keeps a
   * connection to every address; with one, the next call reconnects.
   */
  sessionEnded(s: Subchannel, reconnectInMs: number | undefined): void {
    if (this.target.fixed === undefined && Date.now() - this.resolvedAt >= RESOLVE_MIN_GAP_MS) void this.resolve();
    if (reconnectInMs !== undefined && this.subs.length > 1) {
      setTimeout(() => {
        if (!this.closed && !s.conn && this.subs.includes(s)) s.connect();
      }, Math.max(0, reconnectInMs)).unref();
    }
    this.changed();
  }

  private resolve(): Promise<void> {
    const host = this.target.host as string;
    return (this.resolving ??= lookup(host, { all: true })
      .then(
        (addrs) => {
          this.resolveError = undefined;
          if (addrs.length > 0) this.apply(addrs.map((a) => ({ ip: a.address, port: this.target.port })));
        },
        (e: unknown) => {
          this.resolveError = e instanceof Error ? e : new Error(String(e));
        },
      )
      .finally(() => {
        this.resolvedAt = Date.now();
        this.resolving = undefined;
        this.changed();
      }));
  }

  /** The new address list: sessions to kept addresses stay, removed ones are closed gracefully. */
  private apply(addrs: readonly { ip: string; port: number }[]): void {
    if (this.closed) return;
    const old = new Map(this.subs.map((s) => [s.key, s]));
    const subs: Subchannel[] = [];
    for (const a of addrs) {
      const key = `${a.ip}|${a.port}`;
      if (subs.some((s) => s.key === key)) continue;
      const s = old.get(key) ?? new Subchannel(a.ip, a.port, this);
      old.delete(key);
      subs.push(s);
    }
    for (const s of old.values()) s.close();
    // A channel in use connects to new addresses at once, so they take calls from the next pick.
    if (this.subs.some((s) => s.ready)) for (const s of subs) if (!s.conn) s.connect();
    this.subs = subs;
    if (this.next >= subs.length) this.next = 0;
  }

  close(): void {
    this.closed = true;
    for (const s of this.subs) {
      const c = s.conn;
      s.conn = undefined;
      c?.session.destroy();
    }
    this.subs = [];
    this.changed();
  }
}
