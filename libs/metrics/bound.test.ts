import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { bindCounter, bindHistogram, ChildCache } from "./bound.ts";

function pair() {
  const make = () => {
    const registry = new Registry();
    const h = new Histogram({ name: "h_seconds", help: "h", labelNames: ["model", "outcome"] as const, buckets: [0.1, 1, 10], registers: [registry] });
    const c = new Counter({ name: "c_total", help: "c", labelNames: ["model", "kind"] as const, registers: [registry] });
    const plain = new Histogram({ name: "p_seconds", help: "p", buckets: [1], registers: [registry] });
    return { registry, h, c, plain };
  };
  return { bound: make(), own: make() };
}

describe("bound children", () => {
  it("expose exactly what prom-client's own calls expose", async () => {
    const { bound, own } = pair();
    const values = [0, 0.05, 0.1, 0.5, 1, 3, 10, 11, 1e9];
    const hb = bindHistogram(bound.h, { model: "m", outcome: "ok" });
    const hb2 = bindHistogram(bound.h, { model: "m", outcome: "error" });
    const cb = bindCounter(bound.c, { model: "m", kind: "input" });
    const pb = bindHistogram(bound.plain, {});
    for (const v of values) {
      hb.observe(v);
      own.h.observe({ model: "m", outcome: "ok" }, v);
      hb2.observe(v / 2);
      own.h.observe({ model: "m", outcome: "error" }, v / 2);
      cb.inc(v);
      own.c.inc({ model: "m", kind: "input" }, v);
      pb.observe(v);
      own.plain.observe(v);
    }
    cb.inc();
    own.c.inc({ model: "m", kind: "input" });
    expect(await bound.registry.metrics()).toBe(await own.registry.metrics());
  });

  it("keep counting after a reset and a remove", async () => {
    const { bound, own } = pair();
    const hb = bindHistogram(bound.h, { model: "m", outcome: "ok" });
    const cb = bindCounter(bound.c, { model: "m", kind: "output" });
    hb.observe(2);
    cb.inc(3);
    bound.registry.resetMetrics();
    own.registry.resetMetrics();
    bound.h.remove({ model: "m", outcome: "ok" });
    hb.observe(0.5);
    hb.observe(20);
    cb.inc(4);
    own.h.observe({ model: "m", outcome: "ok" }, 0.5);
    own.h.observe({ model: "m", outcome: "ok" }, 20);
    own.c.inc({ model: "m", kind: "output" }, 4);
    expect(await bound.registry.metrics()).toBe(await own.registry.metrics());
  });

  it("refuse what prom-client refuses", () => {
    const { bound } = pair();
    const hb = bindHistogram(bound.h, { model: "m" });
    hb.observe(1);
    expect(() => hb.observe(Number.NaN)).toThrow(TypeError);
    const cb = bindCounter(bound.c, { model: "m" });
    cb.inc(1);
    expect(() => cb.inc(-1)).toThrow(/decrease/);
    expect(() => bindHistogram(bound.h, { model: "m", nope: "x" } as unknown as { model: string })).toThrow(/nope/);
  });
});

describe("ChildCache", () => {
  it("makes a child once per key and stays within its bound", () => {
    const cache = new ChildCache<{ n: number }>(2);
    let made = 0;
    const get = (k: string) => cache.get(k) ?? cache.set(k, { n: ++made });
    const a = get("a");
    expect(get("a")).toBe(a);
    get("b");
    get("c"); // over the bound: the oldest goes
    expect(made).toBe(3);
    expect(cache.get("a")).toBeUndefined();
    expect(get("a")).not.toBe(a);
  });
});
