// One contract for the mesh's gRPC clients (grpc-js, node:http2), each against both servers the mesh
// runs: a Connect-ES server (connectNodeAdapter) and the binary-gRPC fast path. Scripted behaviour is
// keyed by the request's `service`.
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClassifierService } from "#libs/gen/llmgw/classifier/v1/classifier_pb.ts";
import { ExecutorService } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { Health, HealthCheckResponse_ServingStatus as S } from "#libs/gen/grpc/health/v1/health_pb.ts";
import { createFastRpcServer, rpcService, type RpcServiceBinding } from "#libs/server/grpc-fast-path.ts";
import { closeGrpcJsChannels, createGrpcJsClient } from "./grpc-js-client.ts";
import { closeHttp2Channels, createHttp2Client } from "./http2-client.ts";

type ClientKind = "grpc-js" | "http2";
type ServerKind = "connect" | "fast";
const make: Record<ClientKind, <T extends DescService>(s: T, address: string, o?: { defaultTimeoutMs?: number }) => Client<T>> = {
  "grpc-js": createGrpcJsClient,
  http2: createHttp2Client,
};
const closeAll = () => (closeGrpcJsChannels(), closeHttp2Channels());

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

function newServer(kind: ServerKind): http2.Http2Server {
  if (kind === "fast") return createFastRpcServer(bindings);
  return http2.createServer(
    connectNodeAdapter({
      routes: (r) => {
        for (const b of bindings) r.service(b.service, b.impl as ServiceImpl<DescService>);
      },
    }),
  );
}

/** A server that can be stopped hard (sessions destroyed) and started again on the same port. */
async function listen(kind: ServerKind, port = 0): Promise<{ port: number; stop: () => Promise<void>; goaway: () => void }> {
  const server = newServer(kind);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s: http2.ServerHttp2Session) => (sessions.add(s), s.on("close", () => sessions.delete(s))));
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    // What servers do to connections past their maximum age: GOAWAY, in-flight calls finish.
    goaway: () => {
      for (const s of sessions) s.close();
    },
    stop: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        for (const s of sessions) s.destroy();
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
  ["grpc-js", "fast"],
  ["http2", "connect"],
  ["http2", "fast"],
])("mesh client %s against a %s server", (clientKind, serverKind) => {
  let srv: { port: number; stop: () => Promise<void>; goaway: () => void };
  let address = "";
  const client = <T extends DescService>(s: T, a = address, o?: { defaultTimeoutMs?: number }) => make[clientKind](s, a, o);

  beforeAll(async () => {
    srv = await listen(serverKind);
    address = `127.0.0.1:${srv.port}`;
  });
  afterAll(async () => {
    closeAll();
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

  it("loses no call when the server ends its connections (GOAWAY) under load", async () => {
    const own = await listen(serverKind);
    try {
      const c = client(Health, `127.0.0.1:${own.port}`);
      let left = 400;
      let failed = 0;
      const errs = new Set<string>();
      const ticker = setInterval(() => own.goaway(), 25);
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (left-- > 0) await c.check({ service: "ok" }, { timeoutMs: 5_000 }).catch((e: unknown) => (failed++, errs.add(String(e))));
        }),
      );
      clearInterval(ticker);
      expect([...errs]).toEqual([]);
      expect(failed).toBe(0);
    } finally {
      await own.stop();
    }
  }, 30_000);

  it("reports an unreachable server as Unavailable (code 14)", async () => {
    const gone = await listen(serverKind);
    await gone.stop();
    const c = client(Health, `127.0.0.1:${gone.port}`);
    expect((await errorOf(c.check({ service: "ok" }, { timeoutMs: 5_000 })))?.code).toBe(Code.Unavailable);
  });

  it("answers Unavailable while the server is gone and recovers when it is back", async () => {
    const own = await listen(serverKind);
    const c = client(Health, `127.0.0.1:${own.port}`);
    expect((await c.check({ service: "ok" }, { timeoutMs: 5_000 })).status).toBe(S.SERVING);
    await own.stop();
    expect((await errorOf(c.check({ service: "ok" }, { timeoutMs: 5_000 })))?.code).toBe(Code.Unavailable);
    const back = await listen(serverKind, own.port);
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
