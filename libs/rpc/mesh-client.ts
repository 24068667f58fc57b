// Mesh mode: RPC to another service. settings.rpcClient (LLMGW_RPC_CLIENT) picks the client:
// "connect-h1" (the default: the Connect protocol over HTTP/1.1 with undici, connect-h1-client.ts, an
// undici Pool per resolved address; per unary call about a quarter of grpc-js's client CPU and a
// fifth of its latency at low load, libs/rpc/server-bench.ts), "grpc-js" (@grpc/grpc-js, gRPC over
// HTTP/2) or "connect" (the Connect gRPC transport). Servers speak all of them on one port.
import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createConnectH1Client } from "./connect-h1-client.ts";
import { createGrpcJsClient } from "./grpc-js-client.ts";
import { traceContextInterceptor } from "#libs/tracing/connect-interceptor.ts";
import { lazyClients, type ServiceClients, type ServiceName } from "./service-clients.ts";

const transports = new Map<string, Transport>();

export function meshTransport(address: string, defaultTimeoutMs?: number): Transport {
  const id = `${address}#${defaultTimeoutMs ?? ""}`;
  let t = transports.get(id);
  if (!t) {
    const baseUrl = address.includes("://") ? address : `http://${address}`;
    t = createGrpcTransport({ baseUrl, pingIntervalMs: 30_000, idleConnectionTimeoutMs: 300_000, interceptors: [traceContextInterceptor], ...(defaultTimeoutMs !== undefined ? { defaultTimeoutMs } : {}) });
    transports.set(id, t);
  }
  return t;
}

export const MESH_RPC_CLIENTS = ["grpc-js", "connect", "connect-h1"] as const;
export type MeshRpcClient = (typeof MESH_RPC_CLIENTS)[number];

export function createMeshClient<S extends DescService>(service: S, address: string, kind: MeshRpcClient = "connect-h1", defaultTimeoutMs?: number): Client<S> {
  const opts = defaultTimeoutMs !== undefined ? { defaultTimeoutMs } : {};
  if (kind === "connect") return createClient(service, meshTransport(address, defaultTimeoutMs));
  if (kind === "connect-h1") return createConnectH1Client(service, address, opts);
  return createGrpcJsClient(service, address, opts);
}

/**
 * A gRPC client per service, at the addresses in config; created on first use. `deadlineMs` gives
 * each service's calls their default deadline (a stalled peer answers DeadlineExceeded, never hangs).
 */
export function meshClients(addresses: Readonly<Record<ServiceName, { address: string }>>, kind: MeshRpcClient = "connect-h1", deadlineMs?: (name: ServiceName) => number): ServiceClients {
  return lazyClients((name, service) => createMeshClient(service, addresses[name].address, kind, deadlineMs?.(name)));
}
