// Mesh mode: gRPC over HTTP/2 to another service. One HTTP/2 connection per address, shared by every
// client of that address. The default client is @grpc/grpc-js (less CPU per call than the Connect
// transport); LLMGW_RPC_CLIENT=connect selects the Connect transport, kept for comparison.
import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createGrpcJsClient } from "./grpc-js-client.ts";

const transports = new Map<string, Transport>();

export function meshTransport(address: string): Transport {
  let t = transports.get(address);
  if (!t) {
    const baseUrl = address.includes("://") ? address : `http://${address}`;
    t = createGrpcTransport({ baseUrl, pingIntervalMs: 30_000, idleConnectionTimeoutMs: 300_000 });
    transports.set(address, t);
  }
  return t;
}

export type MeshRpcClient = "grpc-js" | "connect";

/** Which client implementation the mesh uses: LLMGW_RPC_CLIENT=connect|grpc-js (default grpc-js). */
export function meshRpcClient(env: NodeJS.ProcessEnv = process.env): MeshRpcClient {
  return env.LLMGW_RPC_CLIENT === "connect" ? "connect" : "grpc-js";
}

export function createMeshClient<S extends DescService>(service: S, address: string): Client<S> {
  return meshRpcClient() === "connect" ? createClient(service, meshTransport(address)) : createGrpcJsClient(service, address);
}
