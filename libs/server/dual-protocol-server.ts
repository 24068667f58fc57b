// One RPC port for HTTP/1.1 and h2c. A net.Server looks at the first bytes of each connection: the
// HTTP/2 client preface goes to the HTTP/2 server (binary gRPC fast path + Connect-ES), anything else
// to a node:http server (Connect binary fast path + Connect-ES for Connect JSON, gRPC-Web, GET).
// Connections live at most `maxConnectionAgeMs` (HTTP/2: GOAWAY; HTTP/1.1: `connection: close` on
// the next response), so clients reconnect and re-resolve and new replicas get their share.
import http from "node:http";
import type http2 from "node:http2";
import net from "node:net";
import type { DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { connectFastPath } from "./connect-fast-path.ts";
import { createFastRpcServer, type FastRpcServerOptions } from "./grpc-fast-path.ts";
import { routesOf, type RpcServiceBinding } from "./rpc-routes.ts";

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
/** A connection that says nothing for this long is dropped before it is classified. */
const SNIFF_TIMEOUT_MS = 30_000;
/**
 * Idle HTTP/1.1 connections are kept well beyond the clients' own idle timeout (connect-h1-client
 * uses 30 s), so the client closes first: a server closing an idle socket races a POST being sent.
 */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** Draining: how long idle HTTP/1.1 connections stay open for clients to learn `connection: close`. */
const IDLE_GRACE_MS = 1_000;

export interface DualRpcServerOptions extends FastRpcServerOptions {
  /** Connection lifetime, ±10% jitter (default: unlimited). */
  maxConnectionAgeMs?: number;
}

export interface DualRpcServer {
  /** The listening server: listen on it, and stop() it. */
  readonly server: net.Server;
  readonly http1: http.Server;
  readonly http2: http2.Http2Server;
  /** Stop accepting, ask every connection to go away, let in-flight calls finish within `drainTimeoutMs`, then cut the rest. */
  stop(drainTimeoutMs?: number): Promise<void>;
}

interface H1State {
  readonly closeAt: number;
  active: number;
}

/** Does `b` (the start of a connection) begin with, or could it still become, the HTTP/2 preface? */
function prefaceMatch(b: Buffer): "h2" | "h1" | "more" {
  const n = Math.min(b.length, PREFACE.length);
  if (b.compare(PREFACE, 0, n, 0, n) !== 0) return "h1";
  return n === PREFACE.length ? "h2" : "more";
}

export function createDualRpcServer(services: readonly RpcServiceBinding[], options: DualRpcServerOptions = {}): DualRpcServer {
  const maxAge = options.maxConnectionAgeMs;
  const lifetime = () => (maxAge === undefined ? Infinity : maxAge * (0.9 + Math.random() * 0.2));
  let draining = false;

  const h2 = createFastRpcServer(services, options);
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (s: http2.ServerHttp2Session) => {
    sessions.add(s);
    const life = lifetime();
    const age = Number.isFinite(life) ? setTimeout(() => s.close(), life) : undefined;
    age?.unref();
    s.on("close", () => {
      clearTimeout(age);
      sessions.delete(s);
    });
  });

  const connect = connectNodeAdapter({
    routes: (router) => {
      for (const { service, impl } of services) router.service(service, impl as ServiceImpl<DescService>);
    },
  });
  const serve = connectFastPath(routesOf(services), connect, options.readMaxBytes !== undefined ? { readMaxBytes: options.readMaxBytes } : {});
  const h1Sockets = new Map<net.Socket, H1State>();
  const h1 = http.createServer((req, res) => {
    const sock = req.socket;
    const st = h1Sockets.get(sock);
    if (st) {
      st.active++;
      res.once("close", () => {
        st.active--;
        // Draining: the answer is out, the connection goes (the client saw `connection: close`).
        if (draining && st.active === 0) sock.destroySoon();
      });
      if (draining || Date.now() >= st.closeAt) res.setHeader("connection", "close");
    }
    serve(req, res);
  });
  h1.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;

  // No Nagle: small answers and stream messages go out at once (node:http sets this on its own listeners).
  const server = net.createServer({ noDelay: true }, (socket) => {
    let head: Buffer | undefined;
    const sniff = setTimeout(() => socket.destroy(), SNIFF_TIMEOUT_MS);
    const onError = () => clearTimeout(sniff);
    const onData = (chunk: Buffer) => {
      head = head ? Buffer.concat([head, chunk]) : chunk;
      const kind = prefaceMatch(head);
      if (kind === "more") return;
      clearTimeout(sniff);
      socket.off("data", onData);
      socket.off("error", onError);
      socket.pause();
      socket.unshift(head);
      if (kind === "h2") {
        h2.emit("connection", socket);
        return;
      }
      h1Sockets.set(socket, { closeAt: Date.now() + lifetime(), active: 0 });
      socket.once("close", () => h1Sockets.delete(socket));
      h1.emit("connection", socket);
      // node:http reads the socket's handle directly from now on; the bytes already read (unshifted
      // above) reach its parser through the socket's 'data' event, which needs a flowing socket.
      // resume() emits them on the next tick, before any further network data.
      socket.resume();
    };
    socket.on("error", onError);
    socket.on("data", onData);
  });

  let stopping: Promise<void> | undefined;
  const stop = (drainTimeoutMs = 10_000) =>
    (stopping ??= (async () => {
      draining = true;
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sessions) s.close();
      // HTTP/1.1 cannot tell an idle connection to go away: closing it races a request the client
      // may be sending. So for a moment every answer carries `connection: close` (busy clients learn
      // it cleanly, and reconnect elsewhere: the listener is closed), then connections still idle go.
      const idleGrace = setTimeout(() => {
        for (const [sock, st] of h1Sockets) if (st.active === 0) sock.destroySoon();
      }, Math.min(IDLE_GRACE_MS, drainTimeoutMs / 2));
      const timeout = new Promise<void>((r) => setTimeout(r, drainTimeoutMs).unref());
      await Promise.race([closed, timeout]);
      clearTimeout(idleGrace);
      for (const s of sessions) s.destroy();
      for (const sock of h1Sockets.keys()) sock.destroy();
    })());
  return { server, http1: h1, http2: h2, stop };
}
