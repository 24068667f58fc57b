// Real driver errors (pg, ioredis) from servers taken away through a fault proxy are recognized as
// dependency failures, and a service method failing with one answers Unavailable.
import { Code, ConnectError } from "@connectrpc/connect";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as S } from "#libs/gen/grpc/health/v1/health_pb.ts";
import { startFaultProxy, type FaultProxy } from "../../test/e2e/support/fault-proxy.ts";
import { isDependencyFailure, withDependencyErrors } from "./dependency-errors.ts";

const PG = new URL(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test");
const REDIS = new URL(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
let pgProxy: FaultProxy;
let redisProxy: FaultProxy;
const caught = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e);

beforeAll(async () => {
  pgProxy = await startFaultProxy({ host: PG.hostname, port: Number(PG.port || 5432) });
  redisProxy = await startFaultProxy({ host: REDIS.hostname, port: Number(REDIS.port || 6379) });
});
afterAll(async () => {
  await pgProxy.close();
  await redisProxy.close();
});

describe("dependency failures", () => {
  it("pg: a stalled server (query_timeout) and a cut one (connection refused/terminated)", async () => {
    const pool = new pg.Pool({ host: "127.0.0.1", port: pgProxy.port, user: PG.username, database: PG.pathname.slice(1), query_timeout: 300, connectionTimeoutMillis: 1_000 });
    pool.on("error", () => undefined);
    await pool.query("SELECT 1");
    pgProxy.stall();
    const stalled = await caught(pool.query("SELECT 1"));
    pgProxy.cut();
    const cut = await caught(pool.query("SELECT 1"));
    pgProxy.heal();
    await pool.end().catch(() => undefined);
    expect(stalled).toBeInstanceOf(Error);
    expect(isDependencyFailure(stalled)).toBe(true);
    expect(isDependencyFailure(cut)).toBe(true);
  });

  it("ioredis: a command timeout on a stalled server, and a closed connection without offline queue", async () => {
    const r = new Redis({ host: "127.0.0.1", port: redisProxy.port, commandTimeout: 300, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 100 });
    r.on("error", () => undefined);
    await new Promise<void>((res) => r.once("ready", () => res()));
    await r.ping();
    redisProxy.stall();
    const stalled = await caught(r.ping());
    redisProxy.cut();
    await new Promise((res) => setTimeout(res, 100));
    const cut = await caught(r.ping());
    redisProxy.heal();
    r.disconnect();
    expect(isDependencyFailure(stalled)).toBe(true);
    expect(isDependencyFailure(cut)).toBe(true);
  });

  it("a bug is not a dependency failure; the wrapper maps only dependency failures to Unavailable", async () => {
    expect(isDependencyFailure(new TypeError("x is undefined"))).toBe(false);
    let fail: Error = new Error("Connection terminated unexpectedly");
    const impl = withDependencyErrors(Health, {
      check: async () => {
        throw fail;
      },
      async *watch() {
        yield { status: S.SERVING };
      },
    });
    const ctx = {} as never;
    const e1 = await caught(Promise.resolve(impl.check({ service: "" } as never, ctx)));
    expect(e1).toBeInstanceOf(ConnectError);
    expect((e1 as ConnectError).code).toBe(Code.Unavailable);
    fail = new TypeError("a bug");
    const e2 = await caught(Promise.resolve(impl.check({ service: "" } as never, ctx)));
    expect(e2).toBe(fail);
    expect(typeof impl.watch).toBe("function");
  });
});
