// Every mesh call has a deadline: a peer whose connection stalls (through a fault proxy) answers
// DeadlineExceeded after the client's default timeout, for every client kind, instead of hanging.
import type { AddressInfo } from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as S } from "#libs/gen/grpc/health/v1/health_pb.ts";
import { startFaultProxy, type FaultProxy } from "../../test/e2e/support/fault-proxy.ts";
import { closeGrpcJsChannels } from "./grpc-js-client.ts";
import { createDualRpcServer, type DualRpcServer } from "#libs/server/dual-protocol-server.ts";
import { rpcService } from "#libs/server/rpc-routes.ts";
import { closeConnectH1Pools } from "./connect-h1-client.ts";
import { createMeshClient, type MeshRpcClient } from "./mesh-client.ts";

let server: DualRpcServer;
let proxy: FaultProxy;

beforeAll(async () => {
  server = createDualRpcServer([rpcService(Health, { check: async () => ({ status: S.SERVING }), async *watch() {} })]);
  await new Promise<void>((r) => server.server.listen(0, "127.0.0.1", () => r()));
  proxy = await startFaultProxy({ host: "127.0.0.1", port: (server.server.address() as AddressInfo).port });
});

afterAll(async () => {
  closeGrpcJsChannels();
  await closeConnectH1Pools();
  await proxy.close();
  await server.stop(0);
});

describe.each<MeshRpcClient>(["grpc-js", "connect", "connect-h1"])("mesh client deadlines (%s)", (kind) => {
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
