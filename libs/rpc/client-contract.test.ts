// One contract for the mesh's own clients (grpc-js: gRPC over HTTP/2; connect-h1: Connect over
// HTTP/1.1), each against both servers it may meet: plain Connect-ES (connectNodeAdapter) and the
// dual-protocol server the mesh runs (the binary-gRPC and Connect fast paths on one port). Scripted
// behaviour is keyed by the request's `service`.
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClassifierService } from "#libs/gen/llmgw/classifier/v1/classifier_pb.ts";
import { ExecutorService } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { Health, HealthCheckResponse_ServingStatus as S } from "#libs/gen/grpc/health/v1/health_pb.ts";
import { createDualRpcServer } from "#libs/server/dual-protocol-server.ts";
import { rpcService, type RpcServiceBinding } from "#libs/server/rpc-routes.ts";
import { closeConnectH1Pools, createConnectH1Client } from "./connect-h1-client.ts";
import { closeGrpcJsChannels, createGrpcJsClient } from "./grpc-js-client.ts";

type ClientKind = "grpc-js" | "connect-h1";
type ServerKind = "connect" | "dual";
const make: Record<ClientKind, <T extends DescService>(s: T, address: string, o?: { defaultTimeoutMs?: number }) => Client<T>> = {
  "grpc-js": createGrpcJsClient,
  "connect-h1": createConnectH1Client,
};
const closeAll = async () => (closeGrpcJsChannels(), await closeConnectH1Pools());

const seen: { header?: string | null; timeout?: number | undefined; bytes?: number } = {};

const health: Partial<ServiceImpl<typeof Health>> = {
  async check(req, ctx: HandlerContext) {
    seen.header = ctx.requestHeader.get("x-test");
    seen.timeout = ctx.timeoutMs();
    if (req.service === "missing") throw new ConnectError("no such service", Code.NotFound);
    if (req.service === "overloaded") throw new ConnectError("busy – ünïcode 100%", Code.ResourceExhausted, { "x-why": "queue full" });
    if (req.service === "boom") throw new Error("secret");
    if (req.service === "meta") {
      ctx.responseHeader.set("x-h", "1");
      ctx.responseTrailer.set("x-t", "2");
    }
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
    if (req.service === "fail-late") throw new ConnectError("late", Code.DataLoss);
    if (req.service === "endless") {
      while (!ctx.signal.aborted) {
        yield { status: S.NOT_SERVING };
        await new Promise<void>((r) => setTimeout(r, 5));
      }
      // Ended by the deadline or the client's cancel: say which, as a real handler's next call would.
      // Returning normally let a loaded run end the stream with OK when the server's own deadline fired
      // before the client's, and the client then saw no error at all.
      throw ConnectError.from(ctx.signal.reason);
    }
  },
};

const classifier: Partial<ServiceImpl<typeof ClassifierService>> = {
  async classify(req) {
    seen.bytes = req.messages.reduce((n, m) => n + m.content.length, 0);
    return { category: "big", reasons: ["r".repeat(seen.bytes)] };
  },
};

const bindings: RpcServiceBinding[] = [rpcService(Health, health), rpcService(ClassifierService, classifier)];

interface Listening {
  port: number;
  stop: () => Promise<void>;
}

/** Plain Connect-ES in the protocol the client speaks (h2c for grpc-js, HTTP/1.1 for connect-h1). */
function connectEs(client: ClientKind): http.Server | http2.Http2Server {
  const handler = connectNodeAdapter({
    routes: (r) => {
      for (const b of bindings) r.service(b.service, b.impl as ServiceImpl<DescService>);
    },
  });
  return client === "grpc-js" ? http2.createServer(handler) : http.createServer(handler);
}

/**
 * A server that can be stopped hard (connections destroyed) and started again on the same port.
 * `maxConnectionAgeMs` (dual only) ends connections as the mesh's servers do past their maximum
 * age: HTTP/2 GOAWAY, HTTP/1.1 `connection: close`; in-flight calls finish.
 */
async function listen(kind: ServerKind, client: ClientKind, port = 0, maxConnectionAgeMs?: number): Promise<Listening> {
  if (kind === "dual") {
    const d = createDualRpcServer(bindings, maxConnectionAgeMs !== undefined ? { maxConnectionAgeMs } : {});
    await new Promise<void>((r) => d.server.listen(port, "127.0.0.1", () => r()));
    return { port: (d.server.address() as AddressInfo).port, stop: () => d.stop(0) };
  }
  const server = connectEs(client);
  const sockets = new Set<Socket>();
  server.on("connection", (s: Socket) => (sockets.add(s), s.on("close", () => sockets.delete(s))));
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    stop: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      }),
  };
}

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as ConnectError,
  );

describe.each<[ClientKind, ServerKind]>([
  ["grpc-js", "connect"],
  ["grpc-js", "dual"],
  ["connect-h1", "connect"],
  ["connect-h1", "dual"],
])("mesh client %s against a %s server", (clientKind, serverKind) => {
  let srv: Listening;
  let address = "";
  const client = <T extends DescService>(s: T, a = address, o?: { defaultTimeoutMs?: number }) => make[clientKind](s, a, o);

  beforeAll(async () => {
    srv = await listen(serverKind, clientKind);
    address = `127.0.0.1:${srv.port}`;
  });
  afterAll(async () => {
    await closeAll();
    await srv.stop();
  });

  it("makes unary calls with plain init objects, passing headers and the deadline", async () => {
    const c = client(Health);
    const res = await c.check({ service: "ok" }, { headers: { "x-test": "hello" }, timeoutMs: 5_000 });
    expect(res.status).toBe(S.SERVING);
    expect(seen.header).toBe("hello");
    expect(seen.timeout).toBeGreaterThan(4_000);
    expect(seen.timeout).toBeLessThanOrEqual(5_000);
  });

  it("gives the default deadline to calls without their own", async () => {
    const c = client(Health, address, { defaultTimeoutMs: 3_000 });
    await c.check({ service: "ok" });
    expect(seen.timeout).toBeGreaterThan(2_000);
    expect(seen.timeout).toBeLessThanOrEqual(3_000);
  });

  it("maps grpc status errors to ConnectError with the same code, message and trailers", async () => {
    const c = client(Health, `http://${address}`);
    const e1 = await errorOf(c.check({ service: "missing" }));
    expect(e1).toBeInstanceOf(ConnectError);
    expect(e1?.code).toBe(Code.NotFound);
    expect(e1?.rawMessage).toBe("no such service");
    const e2 = await errorOf(c.check({ service: "overloaded" }));
    expect(e2?.code).toBe(Code.ResourceExhausted);
    expect(e2?.rawMessage).toBe("busy – ünïcode 100%");
    expect(e2?.metadata.get("x-why")).toBe("queue full");
    const e3 = await errorOf(c.check({ service: "boom" }));
    expect(e3?.code).toBe(Code.Internal);
    expect(e3?.rawMessage).not.toContain("secret");
  });

  it("reports response headers and trailers", async () => {
    const c = client(Health);
    let h: Headers | undefined;
    let t: Headers | undefined;
    await c.check({ service: "meta" }, { onHeader: (x) => (h = x), onTrailer: (x) => (t = x) });
    expect(h?.get("x-h")).toBe("1");
    expect(t?.get("x-t")).toBe("2");
  });

  it("answers Unimplemented for a method the server does not have", async () => {
    const c = client(ClassifierService);
    const e = await errorOf(client(ExecutorService).getHealth({}));
    expect(e?.code).toBe(Code.Unimplemented);
    expect((await c.classify({ messages: [{ role: "user", content: "x" }] })).category).toBe("big");
  });

  it("turns an expired deadline into DeadlineExceeded (code 4)", async () => {
    const c = client(Health);
    const e = await errorOf(c.check({ service: "slow" }, { timeoutMs: 50 }));
    expect(e?.code).toBe(Code.DeadlineExceeded);
  });

  it("cancels on abort with the signal's reason", async () => {
    const c = client(Health);
    const ac = new AbortController();
    const p = errorOf(c.check({ service: "slow" }, { signal: ac.signal }));
    setTimeout(() => ac.abort(new Error("caller gave up")), 20);
    expect((await p)?.code).toBe(Code.Canceled);
    const pre = await errorOf(c.check({ service: "ok" }, { signal: AbortSignal.abort() }));
    expect(pre?.code).toBe(Code.Canceled);
  });

  it("streams server messages, maps stream errors, and ends the call when the consumer stops", async () => {
    const c = client(Health);
    const got: S[] = [];
    for await (const m of c.watch({ service: "ok" })) got.push(m.status);
    expect(got).toEqual([S.SERVING, S.SERVING, S.SERVING]);

    const drain = async (service: string) => {
      let n = 0;
      for await (const _ of c.watch({ service })) n++;
      return n;
    };
    expect((await errorOf(drain("fail")))?.code).toBe(Code.Unavailable);
    expect((await errorOf(drain("fail-late")))?.code).toBe(Code.DataLoss);

    let n = 0;
    for await (const _ of c.watch({ service: "endless" })) if (++n === 5) break;
    expect(n).toBe(5);
    // The connection is still usable after an early stop.
    expect((await c.check({ service: "ok" })).status).toBe(S.SERVING);
  });

  it("aborts a stream and applies its deadline", async () => {
    const c = client(Health);
    const ac = new AbortController();
    let n = 0;
    const e = await errorOf(
      (async () => {
        for await (const _ of c.watch({ service: "endless" }, { signal: ac.signal })) if (++n === 3) ac.abort();
      })(),
    );
    expect(e?.code).toBe(Code.Canceled);
    const d = await errorOf(
      (async () => {
        for await (const _ of c.watch({ service: "endless" }, { timeoutMs: 60 })) void _;
      })(),
    );
    expect(d?.code).toBe(Code.DeadlineExceeded);
  });

  it("carries messages over 1 MB both ways (no size cap)", async () => {
    const c = client(ClassifierService);
    const size = 3 * 1024 * 1024 + 7;
    const res = await c.classify({ messages: [{ role: "user", content: "q".repeat(size) }] }, { timeoutMs: 20_000 });
    expect(seen.bytes).toBe(size);
    expect(res.reasons[0]?.length).toBe(size);
  });

  it("shares connections between clients of one address and runs calls concurrently", async () => {
    const a = client(Health);
    const b = client(Health);
    const all = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).check({ service: "ok" })));
    expect(all.every((r) => r.status === S.SERVING)).toBe(true);
  });

  it("loses no call when the server keeps ending its connections (max connection age) under load", async () => {
    const own = await listen("dual", clientKind, 0, 25);
    try {
      const c = client(Health, `127.0.0.1:${own.port}`);
      let left = 400;
      let failed = 0;
      const errs = new Set<string>();
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (left-- > 0) await c.check({ service: "ok" }, { timeoutMs: 5_000 }).catch((e: unknown) => (failed++, errs.add(String(e))));
        }),
      );
      expect([...errs]).toEqual([]);
      expect(failed).toBe(0);
    } finally {
      await own.stop();
    }
  }, 30_000);

  it("reports an unreachable server as Unavailable (code 14)", async () => {
    const gone = await listen(serverKind, clientKind);
    await gone.stop();
    const c = client(Health, `127.0.0.1:${gone.port}`);
    expect((await errorOf(c.check({ service: "ok" }, { timeoutMs: 5_000 })))?.code).toBe(Code.Unavailable);
  });

  it("answers Unavailable while the server is gone and recovers when it is back", async () => {
    const own = await listen(serverKind, clientKind);
    const c = client(Health, `127.0.0.1:${own.port}`);
    expect((await c.check({ service: "ok" }, { timeoutMs: 5_000 })).status).toBe(S.SERVING);
    await own.stop();
    expect((await errorOf(c.check({ service: "ok" }, { timeoutMs: 5_000 })))?.code).toBe(Code.Unavailable);
    const back = await listen(serverKind, clientKind, own.port);
    try {
      let ok = false;
      for (let i = 0; i < 100 && !ok; i++) {
        ok = await c.check({ service: "ok" }, { timeoutMs: 2_000 }).then(
          () => true,
          () => false,
        );
        if (!ok) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ok).toBe(true);
    } finally {
      await back.stop();
    }
  }, 30_000);
});
