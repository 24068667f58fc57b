// Mesh mode: gRPC over HTTP/2 to another service. One transport (one HTTP/2 session) per address,
// shared by every client of that address.
import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";

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

export function createMeshClient<S extends DescService>(service: S, address: string): Client<S> {
  return createClient(service, meshTransport(address));
}
