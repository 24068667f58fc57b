// Target parsing and name resolution of the node:http2 mesh client's channel.
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { afterAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as S } from "#libs/gen/grpc/health/v1/health_pb.ts";
import { closeHttp2Channels, createHttp2Client } from "./http2-client.ts";
import { parseTarget } from "./http2-channel.ts";

describe("parseTarget", () => {
  it("reads the address forms the mesh config uses", () => {
    expect(parseTarget("classifier-headless:50051")).toEqual({ tls: false, host: "classifier-headless", port: 50051, fixed: undefined });
    expect(parseTarget("http://127.0.0.1:8080/")).toEqual({ tls: false, host: "127.0.0.1", port: 8080, fixed: [{ ip: "127.0.0.1", port: 8080 }] });
    expect(parseTarget("https://router.example.com")).toEqual({ tls: true, host: "router.example.com", port: 443, fixed: undefined });
    expect(parseTarget("dns:///router:9000")).toMatchObject({ host: "router", port: 9000, fixed: undefined });
    expect(parseTarget("[::1]:7000")).toMatchObject({ host: "::1", port: 7000, fixed: [{ ip: "::1", port: 7000 }] });
    expect(parseTarget("ipv4:10.0.0.1:1,10.0.0.2:2").fixed).toEqual([
      { ip: "10.0.0.1", port: 1 },
      { ip: "10.0.0.2", port: 2 },
    ]);
  });
});

describe("a DNS name", () => {
  const server = http2.createServer(connectNodeAdapter({ routes: (r) => r.service(Health, { check: () => ({ status: S.SERVING }), watch: async function* () {} }) }));

  afterAll(async () => {
    closeHttp2Channels();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it("is resolved, and calls reach the address that serves (localhost may also name ::1, where nothing listens)", async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const c = createHttp2Client(Health, `localhost:${(server.address() as AddressInfo).port}`);
    for (let i = 0; i < 20; i++) expect((await c.check({}, { timeoutMs: 5_000 })).status).toBe(S.SERVING);
  });

  it("that does not resolve answers Unavailable", async () => {
    const c = createHttp2Client(Health, "no-such-host.invalid:50051");
    await expect(c.check({}, { timeoutMs: 5_000 })).rejects.toMatchObject({ code: 14 });
  });
});
