// Client-side balancing in the mesh's grpc-js clients: a target that resolves to several addresses (a
// headless Service's pods; here grpc's static `ipv4:` list of two local servers) gets its calls
// spread over all of them, not pinned to the first connection.
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as S } from "#libs/gen/grpc/health/v1/health_pb.ts";
import { closeGrpcJsChannels, createGrpcJsClient } from "./grpc-js-client.ts";

describe("grpc-js clients balance round robin over every resolved address", () => {
  const servers: http2.Http2Server[] = [];
  const hits = new Map<string, number>();
  const ports: number[] = [];

  beforeAll(async () => {
    const serve = (name: string) =>
      http2.createServer(connectNodeAdapter({ routes: (r) => r.service(Health, { check: () => (hits.set(name, (hits.get(name) ?? 0) + 1), { status: S.SERVING }), watch: async function* () {} }) }));
    for (const name of ["a", "b"]) {
      const s = serve(name);
      await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
      ports.push((s.address() as AddressInfo).port);
      servers.push(s);
    }
  });

  afterAll(async () => {
    closeGrpcJsChannels();
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  });

  it("spreads calls over both servers", async () => {
    const c = createGrpcJsClient(Health, `ipv4:${ports.map((p) => `127.0.0.1:${p}`).join(",")}`);
    for (let i = 0; i < 40; i++) await c.check({ service: "" }, { timeoutMs: 5_000 });
    expect(hits.get("a") ?? 0).toBeGreaterThanOrEqual(10);
    expect(hits.get("b") ?? 0).toBeGreaterThanOrEqual(10);
  });
});
