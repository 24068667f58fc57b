import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as S } from "#libs/gen/grpc/health/v1/health_pb.ts";
import { closeGrpcJsChannels, createGrpcJsClient } from "./grpc-js-client.ts";

// A real Connect-ES server (the mesh's servers) with scripted behaviour keyed by the request's `service`.
let server: http2.Http2Server;
let address = "";
const seen: { header?: string | null; timeout?: number | undefined } = {};

beforeAll(async () => {
  const handler = connectNodeAdapter({
    routes: (router) =>
      router.service(Health, {
        async check(req, ctx: HandlerContext) {
          seen.header = ctx.requestHeader.get("x-test");
          seen.timeout = ctx.timeoutMs();
          if (req.service === "missing") throw new ConnectError("no such service", Code.NotFound);
          if (req.service === "overloaded") throw new ConnectError("busy", Code.ResourceExhausted);
          if (req.service === "slow") {
            await new Promise<void>((r) => {
              const t = setTimeout(r, 2_000);
              ctx.signal.addEventListener("abort", () => (clearTimeout(t), r()), { once: true });
            });
          }
          return { status: S.SERVING };
        },
        async *watch(req, ctx: HandlerContext) {
          if (req.service === "fail") throw new ConnectError("gone", Code.Unavailable);
          for (let i = 0; i < 3; i++) yield { status: S.SERVING };
          if (req.service === "endless") {
            while (!ctx.signal.aborted) {
              yield { status: S.NOT_SERVING };
              await new Promise<void>((r) => setTimeout(r, 5));
            }
          }
        },
      }),
  });
  server = http2.createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  closeGrpcJsChannels();
  await new Promise<void>((r) => server.close(() => r()));
});

describe("createGrpcJsClient against a Connect-ES server", () => {
  it("makes unary calls with plain init objects, passing headers and the deadline", async () => {
    const c = createGrpcJsClient(Health, address);
    const res = await c.check({ service: "ok" }, { headers: { "x-test": "hello" }, timeoutMs: 5_000 });
    expect(res.status).toBe(S.SERVING);
    expect(seen.header).toBe("hello");
    expect(seen.timeout).toBeGreaterThan(0);
  });

  it("maps grpc status errors to ConnectError with the same code", async () => {
    const c = createGrpcJsClient(Health, `http://${address}`);
    const e1 = await c.check({ service: "missing" }).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(ConnectError);
    expect((e1 as ConnectError).code).toBe(Code.NotFound);
    expect((e1 as ConnectError).rawMessage).toBe("no such service");
    const e2 = await c.check({ service: "overloaded" }).catch((e: unknown) => e);
    expect((e2 as ConnectError).code).toBe(8);
  });

  it("turns an expired deadline into DeadlineExceeded (code 4)", async () => {
    const c = createGrpcJsClient(Health, address);
    const e = await c.check({ service: "slow" }, { timeoutMs: 50 }).catch((x: unknown) => x);
    expect((e as ConnectError).code).toBe(Code.DeadlineExceeded);
  });

  it("cancels on abort with the signal's reason", async () => {
    const c = createGrpcJsClient(Health, address);
    const ac = new AbortController();
    const p = c.check({ service: "slow" }, { signal: ac.signal }).catch((x: unknown) => x);
    ac.abort(new Error("caller gave up"));
    const e = await p;
    expect((e as ConnectError).code).toBe(Code.Canceled);
    const pre = await c.check({ service: "ok" }, { signal: AbortSignal.abort() }).catch((x: unknown) => x);
    expect((pre as ConnectError).code).toBe(Code.Canceled);
  });

  it("reports an unreachable server as Unavailable (code 14)", async () => {
    const probe = http2.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", () => r()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const c = createGrpcJsClient(Health, `127.0.0.1:${port}`);
    const e = await c.check({ service: "ok" }, { timeoutMs: 5_000 }).catch((x: unknown) => x);
    expect((e as ConnectError).code).toBe(Code.Unavailable);
  });

  it("streams server messages, maps stream errors, and ends the call when the consumer stops", async () => {
    const c = createGrpcJsClient(Health, address);
    const got: S[] = [];
    for await (const m of c.watch({ service: "ok" })) got.push(m.status);
    expect(got).toEqual([S.SERVING, S.SERVING, S.SERVING]);

    const err = await (async () => {
      for await (const _ of c.watch({ service: "fail" })) void _;
    })().catch((e: unknown) => e);
    expect((err as ConnectError).code).toBe(Code.Unavailable);

    let n = 0;
    for await (const _ of c.watch({ service: "endless" })) if (++n === 5) break;
    expect(n).toBe(5);
    // The channel is still usable after an early stop.
    expect((await c.check({ service: "ok" })).status).toBe(S.SERVING);
  });

  it("shares one channel per address between services' clients", async () => {
    const a = createGrpcJsClient(Health, address);
    const b = createGrpcJsClient(Health, address);
    const [x, y] = await Promise.all([a.check({}), b.check({})]);
    expect([x.status, y.status]).toEqual([S.SERVING, S.SERVING]);
  });
});
