// Mesh client speaking the Connect protocol (binary) over HTTP/1.1 with undici: the Connect
// `Client<S>` shape (callers don't change). On Node an HTTP/1.1 call costs about a third of the CPU of
// a gRPC/HTTP/2 call and has a fraction of its latency (the servers serve both on one port,
// libs/server/dual-protocol-server.ts). One undici Pool per resolved address, round robin (h1-balancer.ts).
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { encodeMessage, envelope } from "./wire.ts";
import { Code, ConnectError, type CallOptions, type Client } from "@connectrpc/connect";
import { traceHeaders } from "#libs/tracing/tracing.ts";
import { StreamH1Call, UnaryH1Call, iterate, type CallSetup } from "./connect-h1-call.ts";
import { balancerFor, type H1Balancer } from "./h1-balancer.ts";

export { closeH1Balancers as closeConnectH1Pools } from "./h1-balancer.ts";

function setupOf(b: H1Balancer, path: string, contentType: string, opts: CallOptions | undefined, defaultTimeoutMs: number | undefined): CallSetup {
  const headers: Record<string, string> = { "content-type": contentType, "connect-protocol-version": "1" };
  if (b.hostHeader) headers.host = b.hostHeader;
  if (opts?.headers) new Headers(opts.headers).forEach((v, k) => (headers[k] = v));
  // W3C trace context of the calling span (nothing when tracing is off).
  const carrier = traceHeaders();
  if (carrier) Object.assign(headers, carrier);
  // The caller's timeout, else the client's default: no call waits without a deadline on a stalled peer.
  const timeoutMs = opts?.timeoutMs ?? defaultTimeoutMs;
  if (timeoutMs !== undefined) headers["connect-timeout-ms"] = String(Math.max(1, Math.ceil(timeoutMs)));
  return { balancer: b, path, headers, timeoutMs, signal: opts?.signal, onHeader: opts?.onHeader, onTrailer: opts?.onTrailer };
}

function unary(b: H1Balancer, path: string, method: DescMethod, defaultTimeoutMs: number | undefined) {
  return (req: unknown, opts?: CallOptions): Promise<unknown> => {
    const signal = opts?.signal;
    if (signal?.aborted) return Promise.reject(ConnectError.from(signal.reason, Code.Canceled));
    let body: Uint8Array;
    try {
      body = encodeMessage(method.input, req);
    } catch (e) {
      return Promise.reject(ConnectError.from(e, Code.Internal));
    }
    const call = new UnaryH1Call(setupOf(b, path, "application/proto", opts, defaultTimeoutMs), Buffer.from(body.buffer, body.byteOffset, body.byteLength), method.output);
    call.start();
    return call.result;
  };
}

function serverStream(b: H1Balancer, path: string, method: DescMethod, defaultTimeoutMs: number | undefined) {
  return (req: unknown, opts?: CallOptions): AsyncIterable<unknown> =>
    (async function* () {
      const signal = opts?.signal;
      if (signal?.aborted) throw ConnectError.from(signal.reason, Code.Canceled);
      const call = new StreamH1Call(setupOf(b, path, "application/connect+proto", opts, defaultTimeoutMs), envelope(0, encodeMessage(method.input, req)), method.output);
      call.start();
      yield* iterate(call);
    })();
}

/**
 * A Connect `Client<S>` over HTTP/1.1 to `address` ("host:port", "http://…", "https://…" for TLS);
 * every call gets `defaultTimeoutMs` as its deadline unless the caller passes its own timeoutMs.
 */
export function createConnectH1Client<S extends DescService>(service: S, address: string, opts: { defaultTimeoutMs?: number } = {}): Client<S> {
  return connectH1ClientOn(service, balancerFor(address), opts);
}

/** The same over a given balancer (tests: a balancer with its own resolver). */
export function connectH1ClientOn<S extends DescService>(service: S, b: H1Balancer, opts: { defaultTimeoutMs?: number } = {}): Client<S> {
  const client: Record<string, unknown> = {};
  for (const method of service.methods as readonly DescMethod[]) {
    const path = `/${service.typeName}/${method.name}`;
    if (method.methodKind === "unary") client[method.localName] = unary(b, path, method, opts.defaultTimeoutMs);
    else if (method.methodKind === "server_streaming") client[method.localName] = serverStream(b, path, method, opts.defaultTimeoutMs);
    else {
      const kind = method.methodKind;
      client[method.localName] = () => {
        throw new ConnectError(`${kind} RPCs are not supported by the Connect HTTP/1.1 mesh client`, Code.Unimplemented);
      };
    }
  }
  return client as Client<S>;
}
