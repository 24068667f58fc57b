import { describe, expect, it } from "vitest";
import { apgr, cpt, operatingPoint, pgr, routingCurve, type ScoredItem } from "./metrics.ts";

// Hand-computed: weak mean 0.5, strong mean 1.0.
// Sorted by score: A(0.9: 0→1), B(0.5: 1→1), C,D tie (0.2: 0→1 and 1→1).
// Curve: (0, .5) (.25, .75) (.5, .75) (1, 1)  → PGR 0, .5, .5, 1.
const items: ScoredItem[] = [
  { score: 0.2, weakQuality: 0, strongQuality: 1 },
  { score: 0.5, weakQuality: 1, strongQuality: 1 },
  { score: 0.9, weakQuality: 0, strongQuality: 1 },
  { score: 0.2, weakQuality: 1, strongQuality: 1 },
];

describe("routing metrics", () => {
  const curve = routingCurve(items);

  it("builds the curve with ties grouped", () => {
    expect(curve.map((p) => [p.share, p.quality])).toEqual([
      [0, 0.5],
      [0.25, 0.75],
      [0.5, 0.75],
      [1, 1],
    ]);
    expect(curve[1]!.threshold).toBe(0.9);
  });

  it("pgr", () => {
    expect(pgr(0.75, 0.5, 1)).toBe(0.5);
    expect(pgr(0.5, 0.5, 0.5)).toBe(0);
  });

  it("CPT(50%) and CPT(80%) interpolate on the curve", () => {
    expect(cpt(curve, 0.5, 1, 0.5)).toBeCloseTo(0.25, 10);
    expect(cpt(curve, 0.5, 1, 0.8)).toBeCloseTo(0.8, 10);
    expect(cpt(curve, 0.5, 1, 1.5)).toBeNull();
  });

  it("APGR is the trapezoidal area under the PGR curve", () => {
    // .0625 + .125 + .375
    expect(apgr(curve, 0.5, 1)).toBeCloseTo(0.5625, 10);
  });

  it("a random (straight-line) curve has APGR 0.5 and CPT(x) = x", () => {
    const line = [
      { share: 0, quality: 0.2, threshold: 1 },
      { share: 1, quality: 0.6, threshold: 0 },
    ];
    expect(apgr(line, 0.2, 0.6)).toBeCloseTo(0.5, 10);
    expect(cpt(line, 0.2, 0.6, 0.5)).toBeCloseTo(0.5, 10);
    expect(cpt(line, 0.2, 0.6, 0.8)).toBeCloseTo(0.8, 10);
  });

  it("operating point from decisions", () => {
    expect(operatingPoint(items, [true, false, false, false])).toEqual({ share: 0.25, quality: 0.75 });
  });
});
