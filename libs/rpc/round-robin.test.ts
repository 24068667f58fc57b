// Client-side balancing in the grpc-js mesh client (connect-h1's: connect-h1-client.test.ts): a target that resolves to several
// addresses (a headless Service's pods; here grpc's static `ipv4:` list of two local servers) gets its
// calls spread over all of them, not pinned to the first connection; a server that goes away leaves
// the calls to the other, and takes calls again once it is back.
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as S } from "#libs/gen/grpc/health/v1/health_pb.ts";
import { closeGrpcJsChannels, createGrpcJsClient } from "./grpc-js-client.ts";

describe("grpc-js clients balance round robin over every resolved address", () => {
  const servers: { server: http2.Http2Server; sessions: Set<http2.ServerHttp2Session> }[] = [];
  const hits = new Map<string, number>();
  const ports: number[] = [];

  const serve = async (name: string, port: number) => {
    const server = http2.createServer(
      connectNodeAdapter({ routes: (r) => r.service(Health, { check: () => (hits.set(name, (hits.get(name) ?? 0) + 1), { status: S.SERVING }), watch: async function* () {} }) }),
    );
    const sessions = new Set<http2.ServerHttp2Session>();
    server.on("session", (s: http2.ServerHttp2Session) => (sessions.add(s), s.on("close", () => sessions.delete(s))));
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
    return { server, sessions };
  };
  const stop = (s: { server: http2.Http2Server; sessions: Set<http2.ServerHttp2Session> }) =>
    new Promise<void>((r) => {
      s.server.close(() => r());
      for (const x of s.sessions) x.destroy();
    });

  beforeAll(async () => {
    for (const name of ["a", "b"]) {
      const s = await serve(name, 0);
      ports.push((s.server.address() as AddressInfo).port);
      servers.push(s);
    }
  });

  afterAll(async () => {
    closeGrpcJsChannels();
    await Promise.all(servers.map(stop));
  });

  it("spreads calls over both servers, and over the other while one is gone", async () => {
    const c = createGrpcJsClient(Health, `ipv4:${ports.map((p) => `127.0.0.1:${p}`).join(",")}`);
    for (let i = 0; i < 40; i++) await c.check({ service: "" }, { timeoutMs: 5_000 });
    expect(hits.get("a") ?? 0).toBeGreaterThanOrEqual(10);
    expect(hits.get("b") ?? 0).toBeGreaterThanOrEqual(10);

    await stop(servers[1] as (typeof servers)[number]);
    hits.clear();
    let failed = 0;
    for (let i = 0; i < 20; i++) await c.check({ service: "" }, { timeoutMs: 5_000 }).catch(() => failed++);
    // The call in flight when the connection dropped may fail; after that, "a" takes them all.
    expect(failed).toBeLessThanOrEqual(1);
    expect(hits.get("a") ?? 0).toBeGreaterThanOrEqual(19);

    servers[1] = await serve("b", ports[1] as number);
    hits.clear();
    for (let i = 0; i < 200 && (hits.get("b") ?? 0) === 0; i++) {
      await c.check({ service: "" }, { timeoutMs: 5_000 });
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(hits.get("b") ?? 0).toBeGreaterThan(0);
  }, 30_000);

  it("takes grpc's dns:/// form of an address as it is", async () => {
    hits.clear();
    const c = createGrpcJsClient(Health, `dns:///127.0.0.1:${ports[0]}`);
    await c.check({ service: "" }, { timeoutMs: 5_000 });
    expect(hits.get("a")).toBe(1);
  });
});
