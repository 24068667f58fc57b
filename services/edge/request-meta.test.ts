import Fastify from "fastify";
import { Client } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { callBase } from "./request-meta.ts";

const who = { keyId: "k", tenantId: "t", admin: false };

describe("callBase's signal", () => {
  const apps: { close(): Promise<unknown> }[] = [];
  afterEach(async () => {
    for (const a of apps.splice(0)) await a.close();
  });

  /** A server whose route keeps each request's signal and answers once `release` resolves. */
  async function server(): Promise<{ url: string; signals: AbortSignal[]; arrived: Promise<void>; release: () => void }> {
    const app = Fastify();
    const signals: AbortSignal[] = [];
    let release!: () => void;
    let gate = new Promise<void>((r) => (release = r));
    let arrive!: () => void;
    const arrived = new Promise<void>((r) => (arrive = r));
    app.get("/", async (req, reply) => {
      signals.push(callBase(req, reply, who).signal);
      if (req.query && (req.query as { wait?: string }).wait) {
        arrive();
        await gate;
        gate = new Promise<void>((r) => (release = r));
      }
      return "ok";
    });
    await app.listen({ port: 0, host: "127.0.0.1" });
    apps.push(app);
    const address = app.server.address();
    if (!address || typeof address === "string") throw new Error("no port");
    return { url: `http://127.0.0.1:${address.port}`, signals, arrived, release: () => release() };
  }

  it("is one per connection: requests on a keep-alive connection share it, another connection has its own", async () => {
    const s = await server();
    const a = new Client(s.url, { pipelining: 1 });
    const b = new Client(s.url);
    try {
      for (const c of [a, a, b]) await (await c.request({ path: "/", method: "GET" })).body.text();
      expect(s.signals).toHaveLength(3);
      expect(s.signals[0]).toBe(s.signals[1]);
      expect(s.signals[2]).not.toBe(s.signals[0]);
      expect(s.signals.some((x) => x.aborted)).toBe(false);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("takes more than ten listeners without a leak warning (pipelined calls on one connection)", async () => {
    const s = await server();
    const c = new Client(s.url);
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on("warning", onWarning);
    try {
      await (await c.request({ path: "/", method: "GET" })).body.text();
      const signal = s.signals[0] as AbortSignal;
      for (let i = 0; i < 20; i++) signal.addEventListener("abort", () => {});
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
    } finally {
      process.off("warning", onWarning);
      await c.close();
    }
  });

  it("aborts when the client closes its connection before the answer", async () => {
    const s = await server();
    const c = new Client(s.url);
    const pending = c.request({ path: "/?wait=1", method: "GET" }).catch(() => undefined);
    await s.arrived;
    const signal = s.signals[0] as AbortSignal;
    expect(signal.aborted).toBe(false);
    const aborted = new Promise<void>((r) => signal.addEventListener("abort", () => r(), { once: true }));
    await c.destroy();
    await aborted;
    expect(signal.aborted).toBe(true);
    s.release();
    await pending;
  });
});
