import { describe, expect, it } from "vitest";
import { cohenKappa, confusion, downgradeOutcome, precision, recall, rocAuc, scorerMetrics, thresholdSweep, type Confusion, type ScoredItem } from "./metrics.ts";

describe("confusion, precision, recall", () => {
  it("counts the four cells", () => {
    const c = confusion([true, true, false, false, true], [true, false, true, false, true]);
    expect(c).toEqual({ tp: 2, fp: 1, fn: 1, tn: 1 });
    expect(precision(c)).toBeCloseTo(2 / 3, 12);
    expect(recall(c)).toBeCloseTo(2 / 3, 12);
  });

  it("undefined ratios are null; mismatched lengths throw", () => {
    expect(precision({ tp: 0, fp: 0, fn: 3, tn: 1 })).toBeNull();
    expect(recall({ tp: 0, fp: 2, fn: 0, tn: 1 })).toBeNull();
    expect(() => confusion([true], [])).toThrow();
  });
});

describe("Cohen's kappa", () => {
  const cases: { name: string; c: Confusion; kappa: number | null }[] = [
    // Wikipedia's worked example: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no → po 0.7, pe 0.5, kappa 0.4.
    { name: "worked example", c: { tp: 20, fp: 5, fn: 10, tn: 15 }, kappa: 0.4 },
    // Second worked example: 45/15/25/15 → po 0.6, pe 0.54, kappa 0.1304.
    { name: "second example", c: { tp: 45, fp: 15, fn: 25, tn: 15 }, kappa: 0.06 / 0.46 },
    { name: "perfect agreement", c: { tp: 30, fp: 0, fn: 0, tn: 20 }, kappa: 1 },
    { name: "perfect disagreement (balanced)", c: { tp: 0, fp: 25, fn: 25, tn: 0 }, kappa: -1 },
    { name: "chance level", c: { tp: 25, fp: 25, fn: 25, tn: 25 }, kappa: 0 },
    { name: "both constant and equal: undefined", c: { tp: 10, fp: 0, fn: 0, tn: 0 }, kappa: null },
    { name: "empty", c: { tp: 0, fp: 0, fn: 0, tn: 0 }, kappa: null },
  ];
  it.each(cases)("$name", ({ c, kappa }) => {
    const k = cohenKappa(c);
    if (kappa === null) expect(k).toBeNull();
    else expect(k).toBeCloseTo(kappa, 10);
  });
});

describe("ROC AUC", () => {
  it.each([
    ["perfect", [0.1, 0.2, 0.8, 0.9], [false, false, true, true], 1],
    ["inverted", [0.9, 0.8, 0.2, 0.1], [false, false, true, true], 0],
    ["all tied", [0.5, 0.5, 0.5, 0.5], [false, true, false, true], 0.5],
    ["one swap", [0.1, 0.6, 0.5, 0.9], [false, false, true, true], 0.75],
    ["single class", [0.1, 0.2], [true, true], null],
  ] as const)("%s", (_n, scores, truth, auc) => {
    const a = rocAuc(scores, truth);
    if (auc === null) expect(a).toBeNull();
    else expect(a).toBeCloseTo(auc, 12);
  });
});

describe("downgrade outcome", () => {
  const item = (accepted: boolean, weakCorrect: boolean, strongCorrect: boolean, score = accepted ? 1 : 0): ScoredItem => ({ accepted, weakCorrect, strongCorrect, score });
  const items = [
    item(true, true, true), // served weak, right
    item(true, false, true), // served weak, wrong: lost
    item(false, false, true), // served strong, right
    item(false, true, false), // served strong, wrong
    item(true, true, false), // served weak, right where strong is wrong: gained
  ];

  it("accuracy of serving accepted items by weak and the rest by strong", () => {
    const d = downgradeOutcome(items);
    expect(d.n).toBe(5);
    expect(d.acceptedShare).toBeCloseTo(0.6, 12);
    expect(d.accuracy).toBeCloseTo(3 / 5, 12); // items 1, 3, 5
    expect(d.allStrong).toBeCloseTo(3 / 5, 12);
    expect(d.allWeak).toBeCloseTo(3 / 5, 12);
    expect(d.dropPoints).toBeCloseTo(0, 9);
    expect(d.lostShare).toBeCloseTo(0.2, 12);
    expect(d.gainedShare).toBeCloseTo(0.2, 12);
    expect(d.wrongServedShare).toBeCloseTo(0.2, 12);
    expect(d.randomSameShare).toBeCloseTo(0.6 * 0.6 + 0.4 * 0.6, 12);
  });

  it("all accepted = all weak, none accepted = all strong; drop in points", () => {
    const rows = [item(true, false, true), item(true, true, true), item(true, false, true), item(true, true, false)];
    const all = downgradeOutcome(rows);
    expect(all.accuracy).toBeCloseTo(all.allWeak, 12);
    expect(all.dropPoints).toBeCloseTo((0.75 - 0.5) * 100, 9);
    const none = downgradeOutcome(rows.map((r) => ({ ...r, accepted: false })));
    expect(none.accuracy).toBeCloseTo(none.allStrong, 12);
    expect(none.dropPoints).toBeCloseTo(0, 12);
    expect(() => downgradeOutcome([])).toThrow();
  });

  it("scorerMetrics bundles everything; the sweep re-decides by score", () => {
    const m = scorerMetrics("x", items);
    expect(m.confusion).toEqual({ tp: 2, fp: 1, fn: 1, tn: 1 });
    expect(m.n).toBe(5);
    const scored = items.map((it, i) => ({ ...it, score: [0.9, 0.7, 0.2, 0.4, 0.8][i]! }));
    const [low, high] = thresholdSweep(scored, [0, 0.85]);
    expect(low!.acceptedShare).toBe(1);
    expect(low!.accuracy).toBeCloseTo(0.6, 12);
    expect(high!.acceptedShare).toBeCloseTo(0.2, 12);
    expect(high!.precision).toBe(1);
  });
});
