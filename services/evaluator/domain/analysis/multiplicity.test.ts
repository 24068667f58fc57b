import { describe, expect, it } from "vitest";
import { adjustPValues, benjaminiHochbergAdjust, holmAdjust } from "./multiplicity.ts";

// Benjamini & Hochberg (1995), section 4: the 15 p-values of the myocardial infarction study.
// At 0.05 Bonferroni and Holm reject 3, BH rejects 4. Adjusted values as R's p.adjust gives them.
const BH1995 = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.324, 0.4262, 0.5719, 0.6528, 0.759, 1.0];
const BH1995_HOLM = [0.0015, 0.0056, 0.0247, 0.114, 0.2211, 0.278, 0.278, 0.278, 0.3213, 1, 1, 1, 1, 1, 1];
const BH1995_BH = [0.0015, 0.003, 0.0095, 0.035625, 0.0603, 0.063857142857, 0.063857142857, 0.0645, 0.0765, 0.486, 0.581181818182, 0.714875, 0.753230769231, 0.813214285714, 1];

const expectAll = (got: number[], want: number[]): void => {
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) => expect(g, `index ${i}`).toBeCloseTo(want[i] as number, 10));
};

describe("holmAdjust", () => {
  it.each([
    { name: "four p-values, unsorted", p: [0.01, 0.04, 0.03, 0.005], want: [0.03, 0.06, 0.06, 0.02] },
    { name: "Benjamini–Hochberg 1995 example", p: BH1995, want: BH1995_HOLM },
    { name: "capped at 1", p: [0.6, 0.7], want: [1, 1] },
    { name: "ties", p: [0.01, 0.01, 0.5], want: [0.03, 0.03, 0.5] },
    { name: "one test: unchanged", p: [0.042], want: [0.042] },
    { name: "empty family", p: [], want: [] },
  ])("$name", ({ p, want }) => {
    expectAll(holmAdjust(p), want);
  });

  it("rejects 3 of the 1995 example at 0.05", () => {
    expect(holmAdjust(BH1995).filter((p) => p < 0.05)).toHaveLength(3);
  });
});

describe("benjaminiHochbergAdjust", () => {
  it.each([
    { name: "four p-values, unsorted", p: [0.01, 0.04, 0.03, 0.005], want: [0.02, 0.04, 0.04, 0.02] },
    { name: "Benjamini–Hochberg 1995 example", p: BH1995, want: BH1995_BH },
    { name: "step-up: a later small ratio pulls earlier ones down", p: [0.04, 0.045, 0.05], want: [0.05, 0.05, 0.05] },
    { name: "one test: unchanged", p: [0.042], want: [0.042] },
    { name: "empty family", p: [], want: [] },
  ])("$name", ({ p, want }) => {
    expectAll(benjaminiHochbergAdjust(p), want);
  });

  it("rejects 4 of the 1995 example at 0.05", () => {
    expect(benjaminiHochbergAdjust(BH1995).filter((p) => p < 0.05)).toHaveLength(4);
  });

  it("is never above Holm (FDR control is the weaker promise)", () => {
    const bh = benjaminiHochbergAdjust(BH1995);
    holmAdjust(BH1995).forEach((h, i) => expect(bh[i] as number).toBeLessThanOrEqual(h));
  });
});

describe("adjustPValues", () => {
  it("dispatches on the correction and refuses values outside [0, 1]", () => {
    expect(adjustPValues([0.01, 0.04], "holm")).toEqual(holmAdjust([0.01, 0.04]));
    expect(adjustPValues([0.01, 0.04], "bh")).toEqual(benjaminiHochbergAdjust([0.01, 0.04]));
    expect(() => adjustPValues([0.5, 1.2], "holm")).toThrow(RangeError);
    expect(() => adjustPValues([Number.NaN], "bh")).toThrow(RangeError);
  });
});
