// Every mesh call has a deadline: a peer whose connection stalls (through a fault proxy) answers
// DeadlineExceeded after the client's default timeout, for both client kinds, instead of hanging.
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as S } from "#libs/gen/grpc/health/v1/health_pb.ts";
import { startFaultProxy, type FaultProxy } from "../../test/e2e/support/fault-proxy.ts";
import { closeGrpcJsChannels } from "./grpc-js-client.ts";
import { closeHttp2Channels } from "./http2-client.ts";
import { createMeshClient, type MeshRpcClient } from "./mesh-client.ts";

let server: http2.Http2Server;
let proxy: FaultProxy;

beforeAll(async () => {
  server = http2.createServer(connectNodeAdapter({ routes: (r) => r.service(Health, { check: async () => ({ status: S.SERVING }), async *watch() {} }) }));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  proxy = await startFaultProxy({ host: "127.0.0.1", port: (server.address() as AddressInfo).port });
});

afterAll(async () => {
  closeGrpcJsChannels();
  closeHttp2Channels();
  await proxy.close();
  await new Promise<void>((r) => server.close(() => r()));
});

describe.each<MeshRpcClient>(["grpc-js", "http2", "connect"])("mesh client deadlines (%s)", (kind) => {
  it("a stalled peer fails the call with DeadlineExceeded after the default deadline; healed, calls succeed", async () => {
    const c = createMeshClient(Health, proxy.address, kind, 300);
    // The caller's own timeout wins over the default (a cold channel may take longer than 300 ms).
    expect((await c.check({ service: "" }, { timeoutMs: 10_000 })).status).toBe(S.SERVING);
    proxy.stall();
    const err = await c.check({ service: "" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    proxy.heal();
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.DeadlineExceeded);
    expect((await c.check({ service: "" }, { timeoutMs: 10_000 })).status).toBe(S.SERVING);
  }, 30_000);
});
