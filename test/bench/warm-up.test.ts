import { describe, expect, it } from "vitest";
import { isWarm, warmUp } from "./warm-up.ts";

describe("isWarm", () => {
  it("needs three chunks", () => {
    expect(isWarm([])).toBe(false);
    expect(isWarm([100, 100])).toBe(false);
    expect(isWarm([100, 100, 100])).toBe(true);
  });

  it("goes on while the cost falls by more than the tolerance", () => {
    expect(isWarm([200, 150, 120])).toBe(false);
    expect(isWarm([150, 120, 130])).toBe(true);
  });

  it("does not stop on a noisy plateau of a long decay (the mesh after 120 s of rest)", () => {
    const decay = [9613, 7752, 7864, 5747, 5448, 4548, 4020, 4039, 3065, 2190, 2342, 2383];
    const stops = decay.findIndex((_, i) => isWarm(decay.slice(0, i + 1)));
    expect(stops).toBe(11);
  });

  it("honours a larger minimum", () => {
    expect(isWarm([100, 100, 100], 4)).toBe(false);
    expect(isWarm([100, 100, 100, 100], 4)).toBe(true);
  });

  it("does not stop on a cold plateau well above the target's earlier warm figure", () => {
    const cold = [2877, 3478, 3020, 2100, 900, 720, 700, 705];
    const stops = (reference?: number) => cold.findIndex((_, i) => isWarm(cold.slice(0, i + 1), 3, 0.05, reference));
    expect(stops()).toBe(2);
    expect(stops(690)).toBe(7);
    // Within the slack of the reference (a busier machine now) a flat run still ends the warm-up.
    expect(isWarm([880, 870, 875], 3, 0.05, 700)).toBe(true);
    expect(isWarm([980, 970, 975], 3, 0.05, 700)).toBe(false);
  });

  it("treats a chunk without requests as not warm", () => {
    expect(isWarm([100, 100, Number.POSITIVE_INFINITY])).toBe(false);
    expect(isWarm([0, 0, 0])).toBe(false);
  });
});

describe("warmUp", () => {
  it("stops when warm and reports the time", async () => {
    const costs = [300, 200, 150, 140, 139, 138];
    let i = 0;
    const r = await warmUp(async () => costs[i++] as number, { chunkSeconds: 1, minChunks: 3, maxChunks: 10 });
    expect(r).toEqual({ seconds: 5, costs: [300, 200, 150, 140, 139], settled: true });
  });

  it("goes on past a plateau above the reference", async () => {
    const costs = [3000, 3100, 3050, 1200, 800, 790, 795];
    let i = 0;
    const r = await warmUp(async () => costs[i++] as number, { chunkSeconds: 2, minChunks: 3, maxChunks: 10, reference: 760 });
    expect(r).toEqual({ seconds: 14, costs: [3000, 3100, 3050, 1200, 800, 790, 795], settled: true });
  });

  it("stops at the cap and says so", async () => {
    let c = 1000;
    const r = await warmUp(async () => (c *= 0.8), { chunkSeconds: 0.5, minChunks: 3, maxChunks: 4 });
    expect(r.settled).toBe(false);
    expect(r.seconds).toBe(2);
    expect(r.costs).toHaveLength(4);
  });
});
