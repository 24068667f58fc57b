// One RPC port, two paths. Binary gRPC (`application/grpc`, `application/grpc+proto`, no message
// compression) for unary and server-streaming methods is served straight off the node:http2 stream:
// length-prefixed frames, fromBinary/toBinary, the ServiceImpl method called directly, grpc-status
// and grpc-message in trailers. Everything else (Connect, gRPC-Web, gRPC+JSON, compressed gRPC,
// client/bidi streaming, GET) falls through to connectNodeAdapter on the same server, so `buf curl`
// works with every protocol. The fast path skips the compat request/response objects and Connect's
// async-iterable pipeline, which are most of a Connect server's CPU per call (libs/rpc/server-bench.ts).
import http2 from "node:http2";
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { FastCall, unenvelope } from "./fast-call.ts";
import { envelope } from "#libs/rpc/wire.ts";
import { NO_LIMIT, isServiceMethod, routesOf, type Route, type RpcServiceBinding } from "./rpc-routes.ts";

export { rpcService, type RpcServiceBinding } from "./rpc-routes.ts";

export interface FastRpcServerOptions {
  /** Largest accepted request message in bytes (default: no practical limit, as Connect's default). */
  readMaxBytes?: number;
  /** Passed to http2.createServer (settings, maxSessionMemory...). */
  http2?: http2.ServerOptions;
}

const RESPONSE_CONTENT_TYPE = "application/grpc+proto";
const GRPC_CONTENT_TYPE = /^application\/grpc(?:\+proto)?$/i;
const TIMEOUT_UNITS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000001 };

/** gRPC percent-encoding of grpc-message: bytes outside printable ASCII, and '%', as %XX (UTF-8). */
function encodeGrpcMessage(s: string): string {
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return s;
  let out = "";
  for (const b of Buffer.from(s, "utf8")) {
    out += b < 0x20 || b > 0x7e || b === 0x25 ? `%${b.toString(16).toUpperCase().padStart(2, "0")}` : String.fromCharCode(b);
  }
  return out;
}

function parseTimeout(v: string): number | ConnectError {
  const m = /^(\d{1,8})([HMSmun])$/.exec(v);
  if (!m) return new ConnectError(`protocol error: invalid grpc timeout value: ${v}`, Code.InvalidArgument);
  return Number(m[1]) * (TIMEOUT_UNITS[m[2] as string] as number);
}

/** What an HTTP/2 reset from the client means for the handler's signal (as connect-node maps it). */
function resetError(rstCode: number): ConnectError {
  switch (rstCode) {
    case http2.constants.NGHTTP2_CANCEL:
      return new ConnectError("http/2 stream closed with error code CANCEL (0x8)", Code.Canceled);
    case http2.constants.NGHTTP2_REFUSED_STREAM:
      return new ConnectError("http/2 stream closed with error code REFUSED_STREAM (0x7)", Code.Unavailable);
    case http2.constants.NGHTTP2_ENHANCE_YOUR_CALM:
      return new ConnectError("http/2 stream closed with error code ENHANCE_YOUR_CALM (0xb)", Code.ResourceExhausted);
    case http2.constants.NGHTTP2_NO_ERROR:
      return new ConnectError("the client closed the stream", Code.Canceled);
    default:
      return new ConnectError(`http/2 stream closed with error code ${rstCode}`, Code.Internal);
  }
}

function copyInto(target: http2.OutgoingHttpHeaders, h: Headers | undefined): void {
  h?.forEach((v, k) => {
    target[k] = v;
  });
}

/** One binary-gRPC call on one HTTP/2 stream. */
class GrpcCall extends FastCall {
  private headersSent = false;

  constructor(
    private readonly stream: http2.ServerHttp2Stream,
    route: Route,
    headers: http2.IncomingHttpHeaders,
    readMaxBytes: number,
  ) {
    const t = headers["grpc-timeout"];
    super(route, "grpc", headers, String(headers[":path"] ?? ""), typeof t === "string" ? parseTimeout(t) : undefined, readMaxBytes);
    stream.on("error", () => {}); // resets and write-after-close surface via "close"; never crash the process
    stream.once("close", () => this.peerClosed(() => resetError(stream.rstCode ?? http2.constants.NGHTTP2_CANCEL)));
    this.start(stream, stream, readMaxBytes + 5);
  }

  protected unwrap(body: Buffer): Uint8Array {
    const kind = this.route.streaming ? "server-streaming" : "unary";
    return unenvelope(body, { kind, wrongCount: Code.Unimplemented, encodingHeader: "grpc-encoding", readMaxBytes: this.readMaxBytes });
  }

  protected sendUnary(bytes: Uint8Array): void {
    const f = envelope(0, bytes);
    if (!this.sendHeaders()) return;
    this.end(undefined, f);
  }

  protected sendStreamHeaders(): boolean {
    return this.headersSent || this.sendHeaders();
  }

  protected override endStream(): void {
    if (!this.sendStreamHeaders()) return;
    this.end(undefined);
  }

  /** Response headers (with the handler's), trailers to follow. False if the call is over. */
  private sendHeaders(): boolean {
    if (this.stream.destroyed || this.stream.closed) return false;
    const h: http2.OutgoingHttpHeaders = { ":status": 200, "content-type": RESPONSE_CONTENT_TYPE };
    copyInto(h, this.ctx.resHeader);
    try {
      this.stream.respond(h, { waitForTrailers: true });
    } catch (e) {
      // Headers HTTP/2 refuses (e.g. a connection-specific one set by the handler).
      this.reset(new ConnectError(`invalid response headers: ${e instanceof Error ? e.message : String(e)}`, Code.Internal));
      return false;
    }
    this.headersSent = true;
    return true;
  }

  /** Ends the call with RST_STREAM INTERNAL_ERROR when no status can be sent. */
  private reset(err: ConnectError): void {
    if (!this.done) this.finish(err);
    if (!this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  }

  /** Ends the call: status in trailers (or a trailers-only response if no headers went out yet). */
  protected end(err: ConnectError | undefined, last?: Buffer): void {
    if (this.done) return;
    this.finish(err);
    const stream = this.stream;
    if (stream.destroyed || stream.closed) return;
    const t: http2.OutgoingHttpHeaders = {};
    copyInto(t, this.ctx.resTrailer);
    if (err) {
      err.metadata.forEach((v, k) => {
        t[k] = v;
      });
      t["grpc-status"] = String(err.code);
      t["grpc-message"] = encodeGrpcMessage(err.rawMessage);
    } else t["grpc-status"] = "0";
    try {
      if (this.headersSent) {
        stream.once("wantTrailers", () => {
          try {
            stream.sendTrailers(t);
          } catch {
            // Trailers HTTP/2 refuses, or the stream went away in between.
            if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
          }
        });
        if (last) stream.end(last);
        else stream.end();
      } else {
        // Trailers-only: headers, handler headers and the status in one HEADERS frame.
        const h: http2.OutgoingHttpHeaders = { ":status": 200, "content-type": RESPONSE_CONTENT_TYPE };
        copyInto(h, this.ctx.resHeader);
        stream.respond(Object.assign(h, t), { endStream: true });
      }
    } catch {
      if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    }
  }
}

/** Immediate error for a binary-gRPC request that has no route (trailers-only, as gRPC servers do). */
function rejectStream(stream: http2.ServerHttp2Stream, code: Code, message: string): void {
  stream.on("error", () => {});
  try {
    stream.respond({ ":status": 200, "content-type": RESPONSE_CONTENT_TYPE, "grpc-status": String(code), "grpc-message": encodeGrpcMessage(message) }, { endStream: true });
  } catch {
    stream.destroy();
  }
  // Drop whatever request body still arrives.
  stream.resume();
}

type StreamListener = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]) => void;

/**
 * An h2c server (not listening yet) for `services`: the binary-gRPC fast path for unary and
 * server-streaming calls, connectNodeAdapter (gRPC, gRPC-Web, Connect) for everything else.
 * Listen, track sessions and drain it like a plain http2.Http2Server.
 */
export function createFastRpcServer(services: readonly RpcServiceBinding[], options: FastRpcServerOptions = {}): http2.Http2Server {
  const routes = routesOf(services);
  const readMaxBytes = options.readMaxBytes ?? NO_LIMIT;
  const connect = connectNodeAdapter({
    routes: (router) => {
      for (const { service, impl } of services) router.service(service, impl as ServiceImpl<DescService>);
    },
  });
  const server = http2.createServer(options.http2 ?? {}, connect);
  // Passing a request listener installs node's compat layer as a 'stream' listener (it builds
  // Http2ServerRequest/Response and emits 'request'). Take it out and call it only for what the
  // fast path does not serve.
  const compat = server.listeners("stream") as StreamListener[];
  if (compat.length !== 1) throw new Error(`unexpected http2 server 'stream' listeners: ${compat.length}`);
  const fallThrough = compat[0] as StreamListener;
  server.removeAllListeners("stream");
  server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]) => {
    const ct = headers["content-type"];
    const enc = headers["grpc-encoding"];
    if (
      headers[":method"] !== "POST" ||
      typeof ct !== "string" ||
      (ct !== "application/grpc" && ct !== "application/grpc+proto" && !GRPC_CONTENT_TYPE.test(ct)) ||
      (enc !== undefined && enc !== "identity")
    ) {
      fallThrough.call(server, stream, headers, flags, rawHeaders);
      return;
    }
    const path = headers[":path"] ?? "";
    const route = routes.get(path);
    if (route) {
      new GrpcCall(stream, route, headers, readMaxBytes);
      return;
    }
    // Client- and bidi-streaming methods of our services: Connect serves them.
    if (isServiceMethod(services, path)) {
      fallThrough.call(server, stream, headers, flags, rawHeaders);
      return;
    }
    rejectStream(stream, Code.Unimplemented, `${path} is not implemented`);
  });
  return server;
}

export interface RunningFastRpcServer {
  readonly server: http2.Http2Server;
  readonly port: number;
  /** GOAWAY to every session, wait up to `drainTimeoutMs` (default 10 s) for in-flight calls, then close. */
  stop(drainTimeoutMs?: number): Promise<void>;
}

/** createFastRpcServer + listen + session tracking for a graceful stop. */
export async function startFastRpcServer(opts: {
  services: readonly RpcServiceBinding[];
  port: number;
  host?: string;
  options?: FastRpcServerOptions;
}): Promise<RunningFastRpcServer> {
  const server = createFastRpcServer(opts.services, opts.options);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s: http2.ServerHttp2Session) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : opts.port;
  let stopping: Promise<void> | undefined;
  const stop = (drainTimeoutMs = 10_000) =>
    (stopping ??= (async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sessions) s.close();
      const timeout = new Promise<void>((r) => setTimeout(r, drainTimeoutMs).unref());
      await Promise.race([closed, timeout]);
      for (const s of sessions) s.destroy();
    })());
  return { server, port, stop };
}
