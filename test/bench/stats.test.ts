import { describe, expect, it } from "vitest";
import { mergeSamples, percentile, projectRatios, summarize, withAddedLatency, type Run } from "./stats.ts";

describe("percentile", () => {
  it("is nearest-rank over exact samples", () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile([7], 50)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });
});

describe("summarize", () => {
  it("counts only successes as throughput and reports every error", () => {
    const s = mergeSamples([
      { latenciesMs: [1, 3], ok: 2, errors: { "500": 1 }, elapsedMs: 500 },
      { latenciesMs: [2], ok: 1, errors: { "500": 2, ECONNRESET: 1 }, elapsedMs: 500 },
    ]);
    const r = summarize({ target: "embedded", variant: "v", model: "m", concurrency: 1 }, s);
    expect(r.rps).toBe(3);
    expect(r.p50_ms).toBe(2);
    expect(r.requests).toBe(7);
    expect(r.errors).toBe(4);
    expect(r.error_kinds).toEqual({ "500": 3, ECONNRESET: 1 });
  });
});

const run = (target: Run["target"], concurrency: number, rps: number, p50: number, extra: Partial<Run> = {}): Run => ({
  target, variant: target === "mesh" ? "in-process" : "x", model: "gpt-4o-mini", concurrency, rps, p50_ms: p50, p99_ms: p50, mean_ms: p50, requests: 1, errors: 0, error_kinds: {}, ...extra,
});

describe("ratios", () => {
  it("compares embedded and mesh with portkey and embedded p50 with direct", () => {
    const runs = withAddedLatency([
      run("direct", 1, 5000, 0.1),
      run("embedded", 1, 2000, 0.35),
      run("direct", 32, 6000, 3),
      run("embedded", 32, 3000, 8, { target_cpu_us_per_req: 100 }),
      run("portkey", 32, 1000, 20, { target_cpu_us_per_req: 400 }),
      run("mesh", 32, 1500, 15),
      run("embedded", 32, 1, 8, { model: "auto" }),
    ]);
    const byName = Object.fromEntries(projectRatios(runs, 32).map((r) => [r.name, r]));
    expect(byName["embedded rps / portkey rps"]?.value).toBe(3);
    expect(byName["embedded rps / portkey rps"]?.met).toBe(true);
    expect(byName["portkey CPU/req / embedded CPU/req"]?.value).toBe(4);
    expect(byName["embedded added p50 vs direct (ms)"]?.value).toBeCloseTo(0.25);
    expect(byName["embedded added p50 vs direct (ms)"]?.met).toBe(true);
    expect(byName["mesh (in-process) rps / portkey rps"]?.value).toBe(1.5);
    expect(byName["mesh (processes) rps / portkey rps"]).toBeUndefined();
  });
});
