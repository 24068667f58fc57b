import net, { type AddressInfo } from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as S } from "#libs/gen/grpc/health/v1/health_pb.ts";
import { ClassifierService } from "#libs/gen/llmgw/classifier/v1/classifier_pb.ts";
import { createDualRpcServer, type DualRpcServer } from "#libs/server/dual-protocol-server.ts";
import { rpcService } from "#libs/server/rpc-routes.ts";
import { closeConnectH1Pools, connectH1ClientOn, createConnectH1Client } from "./connect-h1-client.ts";
import { H1Balancer, parseTarget } from "./h1-balancer.ts";

// Servers that say who they are, and echo the first message's content (large-message tests).
function serve(name: string) {
  return createDualRpcServer([
    rpcService(Health, {
      async check() {
        return { status: S.SERVING };
      },
      // `service` = how many messages, alternating, as fast as the client takes them.
      async *watch(req) {
        for (let i = 0; i < Number(req.service); i++) yield { status: i % 2 ? S.SERVING : S.NOT_SERVING };
      },
    }),
    rpcService(ClassifierService, {
      async classify(req) {
        return { classifier: name, reasons: [req.messages[0]?.content ?? ""] };
      },
    }),
  ]);
}

async function listen(d: DualRpcServer, host: string, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    d.server.once("error", reject);
    d.server.listen(port, host, () => resolve());
  });
  return (d.server.address() as AddressInfo).port;
}

const started: DualRpcServer[] = [];
afterAll(async () => {
  await closeConnectH1Pools();
  await Promise.all(started.map((d) => d.stop(500)));
});

describe("createConnectH1Client", () => {
  it("takes a long server stream through a slow consumer (pause and resume), in order", async () => {
    const d = serve("a");
    started.push(d);
    const port = await listen(d, "127.0.0.1");
    const c = createConnectH1Client(Health, `127.0.0.1:${port}`);
    const got: S[] = [];
    for await (const m of c.watch({ service: "2000" })) {
      got.push(m.status);
      if (got.length % 100 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    expect(got).toHaveLength(2000);
    expect(got.every((st, i) => st === (i % 2 ? S.SERVING : S.NOT_SERVING))).toBe(true);
  });

  it("gives DeadlineExceeded on a peer that accepts and never answers (default deadline)", async () => {
    const sockets: net.Socket[] = [];
    const stalled = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => stalled.listen(0, "127.0.0.1", () => r()));
    const port = (stalled.address() as AddressInfo).port;
    try {
      const c = createConnectH1Client(Health, `127.0.0.1:${port}`, { defaultTimeoutMs: 150 });
      const t0 = Date.now();
      const e = await c.check({}).catch((x: unknown) => x);
      expect((e as ConnectError).code).toBe(Code.DeadlineExceeded);
      expect(Date.now() - t0).toBeLessThan(1_000);
      const s = await (async () => {
        for await (const _ of c.watch({})) void _;
      })().catch((x: unknown) => x);
      expect((s as ConnectError).code).toBe(Code.DeadlineExceeded);
    } finally {
      for (const s of sockets) s.destroy();
      stalled.close();
    }
  });
});

describe("H1Balancer", () => {
  it("parses targets", () => {
    expect(parseTarget("classifier-headless:50051")).toMatchObject({ tls: false, host: "classifier-headless", port: 50051, fixed: undefined });
    expect(parseTarget("http://127.0.0.1:8080/")).toMatchObject({ tls: false, host: undefined, port: 8080, fixed: [{ ip: "127.0.0.1", port: 8080 }] });
    expect(parseTarget("https://svc.example")).toMatchObject({ tls: true, host: "svc.example", port: 443 });
    expect(parseTarget("http://[::1]:7/")).toMatchObject({ tls: false, host: undefined, fixed: [{ ip: "::1", port: 7 }] });
    expect(parseTarget("dns:///svc:9")).toMatchObject({ host: "svc", port: 9, authority: "svc:9" });
    expect(parseTarget("[::1]:7000")).toMatchObject({ host: undefined, fixed: [{ ip: "::1", port: 7000 }] });
    expect(parseTarget("ipv4:127.0.0.1:5,127.0.0.2:6").fixed).toEqual([
      { ip: "127.0.0.1", port: 5 },
      { ip: "127.0.0.2", port: 6 },
    ]);
  });

  it("answers Unavailable for a name that does not resolve", async () => {
    const c = createConnectH1Client(Health, "no-such-host.invalid:50051");
    await expect(c.check({}, { timeoutMs: 5_000 })).rejects.toMatchObject({ code: Code.Unavailable });
  });

  it("spreads calls round robin over every address of the name, and skips one that refuses", async () => {
    const a = serve("a");
    const b = serve("b");
    started.push(a, b);
    const port = await listen(a, "127.0.0.1");
    await listen(b, "127.0.0.2", port);
    // 127.0.0.3: nothing listens there; calls it would get go to the others.
    const balancer = new H1Balancer(parseTarget(`mesh.test:${port}`), async () => ["127.0.0.1", "127.0.0.2", "127.0.0.3"]);
    try {
      const c = connectH1ClientOn(ClassifierService, balancer);
      const seen = new Map<string, number>();
      for (let i = 0; i < 30; i++) {
        const r = await c.classify({ messages: [] });
        seen.set(r.classifier, (seen.get(r.classifier) ?? 0) + 1);
      }
      expect(seen.get("a")).toBeGreaterThanOrEqual(10);
      expect(seen.get("b")).toBeGreaterThanOrEqual(10);
    } finally {
      await balancer.close();
    }
  });
});
