// Client-side balancing for HTTP/1.1 RPC: one undici Pool per address the target's DNS name resolves
// to, calls spread round robin (as grpc-js's round_robin over a headless Service). The name is
// re-resolved every RESOLVE_INTERVAL_MS and after connection errors, so replicas the HPA adds take
// calls; an address that refused a connection is skipped for a while (as grpc-js skips subchannels
// that are not READY), e.g. "localhost" resolving to ::1 where the server listens on IPv4 only.
import dns from "node:dns/promises";
import net from "node:net";
import { Pool } from "undici";

const RESOLVE_INTERVAL_MS = 30_000;
const DOWN_FOR_MS = 2_000;

/** undici settings: idle sockets close before the server's keep-alive (65 s, dual-protocol-server.ts) ends them. */
const POOL_OPTIONS: Pool.Options = {
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 30_000,
  // Deadlines are the caller's (connect-timeout-ms + a local timer), streams may idle for long.
  headersTimeout: 0,
  bodyTimeout: 0,
  connectTimeout: 5_000,
  pipelining: 1,
};

export interface Target {
  readonly tls: boolean;
  /** The name to resolve (and for TLS's SNI); undefined for a static list of addresses. */
  readonly host: string | undefined;
  readonly port: number;
  /** host:port as given, for the Host header when the pool connects by IP. */
  readonly authority: string | undefined;
  /** Addresses known without DNS (IP literals, grpc-style `ipv4:a:p,b:p` / `ipv6:` lists). */
  readonly fixed: readonly Addr[] | undefined;
}

interface Addr {
  readonly ip: string;
  readonly port: number;
}

function hostPort(s: string, defaultPort: number): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (v6) return { host: v6[1] as string, port: v6[2] ? Number(v6[2]) : defaultPort };
  const i = s.lastIndexOf(":");
  if (i > 0 && s.indexOf(":") === i) return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
  return { host: s, port: defaultPort };
}

/** "host:port", "http(s)://host:port", "dns:///host:port", "ipv4:a:p,b:p" (the targets grpc-js takes too). */
export function parseTarget(address: string): Target {
  let rest = address.trim().replace(/\/+$/, "");
  const scheme = /^(https?):\/\//i.exec(rest);
  const tls = scheme?.[1]?.toLowerCase() === "https";
  if (scheme) rest = rest.slice(scheme[0].length);
  const defaultPort = tls ? 443 : 80;
  if (/^ipv[46]:/i.test(rest)) {
    const fixed = rest
      .slice(5)
      .split(",")
      .map((a) => hostPort(a, defaultPort))
      .map((a) => ({ ip: a.host, port: a.port }));
    return { tls, host: undefined, port: fixed[0]?.port ?? defaultPort, authority: undefined, fixed };
  }
  rest = rest.replace(/^dns:(\/\/[^/]*\/)?/i, "");
  const { host, port } = hostPort(rest, defaultPort);
  if (net.isIP(host)) return { tls, host: undefined, port, authority: undefined, fixed: [{ ip: host, port }] };
  return { tls, host, port, authority: rest, fixed: undefined };
}

interface Endpoint {
  readonly key: string;
  readonly pool: Pool;
  downUntil: number;
}

/** Every address the name resolves to (IPv4 and IPv6, in the resolver's order). */
async function lookupAll(host: string): Promise<string[]> {
  return (await dns.lookup(host, { all: true })).map((a) => a.address);
}

export class H1Balancer {
  private endpoints: Endpoint[] = [];
  private next = 0;
  private resolveAt = 0;
  private resolving: Promise<void> | undefined;
  private closed = false;
  /** Extra request header when connecting by IP to a named target. */
  readonly hostHeader: string | undefined;

  constructor(
    readonly target: Target,
    private readonly lookup: (host: string) => Promise<string[]> = lookupAll,
  ) {
    if (target.fixed) {
      this.endpoints = target.fixed.map((a) => this.endpoint(a));
      this.resolveAt = Infinity;
    }
    this.hostHeader = target.authority;
  }

  private endpoint(a: Addr): Endpoint {
    const t = this.target;
    const origin = `${t.tls ? "https" : "http"}://${net.isIPv6(a.ip) ? `[${a.ip}]` : a.ip}:${a.port}`;
    const tlsName = t.tls && t.host !== undefined ? { connect: { servername: t.host } } : {};
    return { key: `${a.ip}:${a.port}`, pool: new Pool(origin, { ...POOL_OPTIONS, ...tlsName }), downUntil: 0 };
  }

  /** The next pool round robin, skipping addresses that refused recently (unless all did). */
  pick(avoid?: Pool): Pool | Promise<Pool> {
    if (Date.now() >= this.resolveAt) {
      const r = this.refresh();
      if (this.endpoints.length === 0) return r.then(() => this.pickNow(avoid));
    }
    return this.pickNow(avoid);
  }

  private pickNow(avoid: Pool | undefined): Pool {
    const eps = this.endpoints;
    if (eps.length === 0) throw new Error(`no addresses for ${String(this.target.host)}`);
    const now = Date.now();
    for (let i = 0; i < eps.length; i++) {
      const ep = eps[this.next++ % eps.length] as Endpoint;
      if (ep.downUntil <= now && ep.pool !== avoid) return ep.pool;
    }
    const ep = eps[this.next++ % eps.length] as Endpoint;
    return ep.pool;
  }

  /** True if another address could take a call that `pool` could not connect for. */
  hasAlternative(pool: Pool): boolean {
    const now = Date.now();
    return this.endpoints.some((e) => e.pool !== pool && e.downUntil <= now);
  }

  /** A connection error: skip this address for a while and re-resolve the name soon. */
  connectionFailed(pool: Pool, refused: boolean): void {
    if (refused) {
      const ep = this.endpoints.find((e) => e.pool === pool);
      if (ep) ep.downUntil = Date.now() + DOWN_FOR_MS;
    }
    if (this.resolveAt !== Infinity) this.resolveAt = Math.min(this.resolveAt, Date.now() + 1_000);
  }

  private refresh(): Promise<void> {
    this.resolveAt = Date.now() + RESOLVE_INTERVAL_MS;
    return (this.resolving ??= this.lookup(this.target.host ?? "")
      .then(
        (found) => this.update(found.map((ip) => ({ ip, port: this.target.port }))),
        () => {
          // The name does not resolve (yet): keep what we have, try again soon.
          this.resolveAt = Date.now() + 1_000;
        },
      )
      .finally(() => {
        this.resolving = undefined;
      }));
  }

  private update(addrs: Addr[]): void {
    if (this.closed || addrs.length === 0) return;
    const old = new Map(this.endpoints.map((e) => [e.key, e]));
    const next = new Map<string, Endpoint>();
    for (const a of addrs) {
      const key = `${a.ip}:${a.port}`;
      if (!next.has(key)) next.set(key, old.get(key) ?? this.endpoint(a));
    }
    this.endpoints = [...next.values()];
    // Addresses gone from DNS: their in-flight calls finish, then the pool closes.
    for (const [key, e] of old) if (!next.has(key)) void e.pool.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.resolveAt = Infinity;
    const eps = this.endpoints;
    this.endpoints = [];
    await Promise.all(eps.map((e) => e.pool.destroy().catch(() => undefined)));
  }
}

// One balancer per address, shared by every service's client of it (as grpc-js-client's channels).
const balancers = new Map<string, H1Balancer>();

export function balancerFor(address: string): H1Balancer {
  let b = balancers.get(address);
  if (!b) {
    b = new H1Balancer(parseTarget(address));
    balancers.set(address, b);
  }
  return b;
}

/** Closes every shared pool (tests, shutdown). */
export async function closeH1Balancers(): Promise<void> {
  const all = [...balancers.values()];
  balancers.clear();
  await Promise.all(all.map((b) => b.close()));
}
