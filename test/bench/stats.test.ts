import { describe, expect, it } from "vitest";
import { compareWithReferences, counterDelta, median, mergeSamples, percentile, projectRatios, simCallsProblem, summarize, withAddedLatency, type Run } from "./stats.ts";

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
  target, variant: target === "mesh" ? "in-process" : target === "embedded" ? "one process" : "x", model: "gpt-4o-mini", concurrency, rps, p50_ms: p50, p99_ms: p50, mean_ms: p50, requests: 1, errors: 0, error_kinds: {}, ...extra,
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
    expect(byName["mesh (in-process) rps / portkey rps"]?.met).toBeUndefined();
    expect(byName["mesh (processes) rps / portkey rps"]).toBeUndefined();
  });

  it("holds the mesh as processes to 0.6x Portkey and 2 ms added at c=1, embedded to 2x", () => {
    const runs = withAddedLatency([
      run("direct", 1, 5000, 0.1),
      run("embedded", 1, 2000, 0.5),
      run("mesh", 1, 300, 2.6, { variant: "processes" }),
      run("embedded", 32, 1900, 8),
      run("portkey", 32, 1000, 20),
      run("mesh", 32, 650, 15, { variant: "processes" }),
    ]);
    const byName = Object.fromEntries(projectRatios(runs, 32).map((r) => [r.name, r]));
    expect(byName["embedded rps / portkey rps"]?.met).toBe(false);
    expect(byName["embedded added p50 vs direct (ms)"]?.met).toBe(false);
    expect(byName["mesh (processes) rps / portkey rps"]?.met).toBe(true);
    expect(byName["mesh (processes) added p50 vs direct (ms)"]?.value).toBeCloseTo(2.5);
    expect(byName["mesh (processes) added p50 vs direct (ms)"]?.met).toBe(false);
  });
});

describe("ratios pick the silent in-memory embedded row", () => {
  it("ignores the npm start defaults and cache-hit rows", () => {
    const runs = withAddedLatency([
      run("direct", 1, 5000, 0.1),
      run("embedded", 1, 4000, 0.2, { variant: "cache hit" }),
      run("embedded", 1, 2000, 0.35),
      run("embedded", 32, 9000, 2, { variant: "cache hit", target_cpu_us_per_req: 50 }),
      run("embedded", 32, 1500, 9, { variant: "npm start defaults", target_cpu_us_per_req: 300 }),
      run("embedded", 32, 3000, 8, { target_cpu_us_per_req: 100 }),
      run("portkey", 32, 1000, 20, { target_cpu_us_per_req: 400 }),
    ]);
    const byName = Object.fromEntries(projectRatios(runs, 32).map((r) => [r.name, r]));
    expect(byName["embedded rps / portkey rps"]?.value).toBe(3);
    expect(byName["portkey CPU/req / embedded CPU/req"]?.value).toBe(4);
    expect(byName["embedded added p50 vs direct (ms)"]?.value).toBeCloseTo(0.25);
  });
});

describe("counterDelta", () => {
  it("sums per process; new processes count from 0, gone ones are dropped, a reused pid counts from 0", () => {
    const before = new Map([
      [1, 1000],
      [2, 500],
      [3, 9000],
    ]);
    const after = new Map([
      [1, 1600], // +600
      [3, 200], // pid reused by a younger process: 200
      [4, 300], // new backend: 300
    ]);
    expect(counterDelta(before, after)).toBe(1100);
    expect(counterDelta(new Map(), new Map())).toBe(0);
  });
});

describe("simCallsProblem", () => {
  it("wants 1 provider call per request, or 0 on a cache-hit row", () => {
    expect(simCallsProblem({ sim_calls_per_req: 1 }, false)).toBeUndefined();
    expect(simCallsProblem({ sim_calls_per_req: 1.02 }, false)).toBeUndefined();
    expect(simCallsProblem({ sim_calls_per_req: 0.5 }, false)).toMatch(/reach the provider/);
    expect(simCallsProblem({ sim_calls_per_req: 0 }, true)).toBeUndefined();
    expect(simCallsProblem({ sim_calls_per_req: 0.2 }, true)).toMatch(/cache hits/);
    expect(simCallsProblem({}, true)).toBeUndefined();
  });
});

describe("compareWithReferences", () => {
  it("puts every row against portkey and bare at the chosen concurrency", () => {
    const runs = [
      run("bare", 32, 8000, 2, { target_cpu_us_per_req: 50, rss_mb: 60, idle_rss_mb: 50 }),
      run("portkey", 32, 1000, 20, { target_cpu_us_per_req: 400, rss_mb: 120, idle_rss_mb: 100 }),
      run("embedded", 32, 4000, 8, { target_cpu_us_per_req: 200, rss_mb: 240, idle_rss_mb: 200 }),
      run("direct", 32, 10000, 1),
      run("embedded", 1, 2000, 0.4, { target_cpu_us_per_req: 300 }),
    ];
    const cmp = compareWithReferences(runs, 32);
    const get = (target: string, vs: string) => cmp.find((c) => c.target === target && c.vs === vs);
    expect(get("embedded", "portkey")).toMatchObject({ rps_ratio: 4, cpu_ratio: 0.5, rss_ratio: 2, idle_rss_ratio: 2 });
    expect(get("embedded", "bare")).toMatchObject({ rps_ratio: 0.5, cpu_ratio: 4, rss_ratio: 4, idle_rss_ratio: 4 });
    expect(get("bare", "portkey")?.rps_ratio).toBe(8);
    expect(get("portkey", "bare")?.cpu_ratio).toBe(8);
    // No row against itself; direct has no process of its own, so only req/s compares.
    expect(get("portkey", "portkey")).toBeUndefined();
    expect(get("direct", "bare")).toMatchObject({ rps_ratio: 1.25, cpu_ratio: undefined, rss_ratio: undefined });
    expect(cmp.every((c) => c.concurrency === 32)).toBe(true);
    expect(compareWithReferences([run("embedded", 32, 1, 1)], 32)).toEqual([]);
  });
});

describe("median", () => {
  it("takes the middle value, or the mean of the two middle ones", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
