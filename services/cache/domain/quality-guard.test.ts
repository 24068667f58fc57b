import { describe, expect, it } from "vitest";
import { chooseFloor, QualityGuard, qualityConfigSchema } from "./quality-guard.ts";

const guard = (over: Record<string, unknown> = {}) => new QualityGuard(qualityConfigSchema.parse({ maxWrongHitRate: 0.05, minAudits: 30, ...over }));

describe("QualityGuard", () => {
  it("suspends a category once its audits show, with 95% confidence, more wrong hits than the bound", () => {
    const g = guard();
    // 6 of 40 wrong: Wilson 95% lower end 0.071 > 0.05. 2 of 40: 0.014, within the bound.
    const changed = g.update([
      { category: "math", audits: 40, wrong: 6, low: 0.071 },
      { category: "code", audits: 40, wrong: 2, low: 0.014 },
    ]);
    expect(changed.map((c) => [c.category, c.suspended])).toEqual([["math", true]]);
    expect(g.allows("math")).toBe(false);
    expect(g.allows("code")).toBe(true);
    expect(g.allows("never-audited")).toBe(true);
  });

  it("does not act on fewer than minAudits audits, however wrong", () => {
    const g = guard();
    g.update([{ category: "math", audits: 29, wrong: 29, low: 0.88 }]);
    expect(g.allows("math")).toBe(true);
  });

  it("is off without a bound", () => {
    const g = guard({ maxWrongHitRate: undefined });
    expect(g.enabled).toBe(false);
    g.update([{ category: "math", audits: 100, wrong: 100, low: 0.96 }]);
    expect(g.allows("math")).toBe(true);
  });

  it("resumes a category when its audits age out of the window or fall back under the bound, and says which changed", () => {
    const g = guard();
    g.update([
      { category: "math", audits: 40, wrong: 6, low: 0.071 },
      { category: "qa", audits: 40, wrong: 6, low: 0.071 },
    ]);
    const changed = g.update([{ category: "qa", audits: 80, wrong: 6, low: 0.035 }]);
    expect(changed.map((c) => [c.category, c.suspended]).sort()).toEqual([["math", false], ["qa", false]]);
    expect(g.allows("math")).toBe(true);
    expect(g.allows("qa")).toBe(true);
    expect(g.update([{ category: "qa", audits: 80, wrong: 6, low: 0.035 }])).toEqual([]);
  });

  it("takes the judge's own floor off once there are enough baselines", () => {
    const g = guard();
    // 12 of 40 audits wrong (Wilson low 0.18), but the judge also rejects the cached answer for its own
    // question in 10 of 40 baselines (high 0.40): nothing the cache is surely responsible for.
    g.update([{ category: "qa", audits: 40, wrong: 12, low: 0.18, baselineAudits: 40, baselineHigh: 0.4 }]);
    expect(g.allows("qa")).toBe(true);
    // With a clean baseline (0 of 40, high 0.088) the same audits suspend it: 0.18 - 0.088 > 0.05.
    g.update([{ category: "qa", audits: 40, wrong: 12, low: 0.18, baselineAudits: 40, baselineHigh: 0.088 }]);
    expect(g.allows("qa")).toBe(false);
    // Fewer baselines than minAudits: not used.
    g.update([{ category: "qa", audits: 40, wrong: 12, low: 0.18, baselineAudits: 10, baselineHigh: 0.4 }]);
    expect(g.allows("qa")).toBe(false);
  });
  describe("similarity floor", () => {
    // 22 of 200 audits wrong (Wilson low 0.073 > 0.05), nearly all of them below 0.88.
    const cuts = [
      { similarity: 0.8, audits: 200, wrong: 22, high: 0.161 },
      // 2 of 120 wrong: upper end 0.059, over the bound.
      { similarity: 0.85, audits: 120, wrong: 2, high: 0.059 },
      // 0 of 90: upper end 3.84 / 93.84 = 0.041.
      { similarity: 0.88, audits: 90, wrong: 0, high: 0.041 },
      { similarity: 0.95, audits: 20, wrong: 0, high: 0.161 },
    ];
    const faq = { category: "faq", audits: 200, wrong: 22, low: 0.073, cuts };

    it("raises the bar instead of suspending when the audits above some similarity are within the bound", () => {
      const g = guard();
      const changed = g.update([faq]);
      expect(changed.map((c) => [c.category, c.suspended, c.floor])).toEqual([["faq", false, 0.88]]);
      expect(g.allows("faq")).toBe(true);
      expect(g.floor("faq")).toBe(0.88);
      expect(g.floor("never-audited")).toBe(0);
      expect(g.update([faq])).toEqual([]);
    });

    it("suspends when no cut has enough audits within the bound", () => {
      const g = guard();
      // Only 25 audits at or above 0.88: fewer than minAudits (30).
      g.update([{ ...faq, cuts: [cuts[0]!, cuts[1]!, { similarity: 0.88, audits: 25, wrong: 0, high: 0.133 }] }]);
      expect(g.allows("faq")).toBe(false);
      expect(g.floor("faq")).toBe(0);
    });

    it("uses the baseline's lower end once there are enough baselines, and drops the floor when the audits are within the bound", () => {
      const g = guard();
      // The judge rejects 2-4% of answers to their own question (lower end 0.02): 0.059 - 0.02 is within 0.05.
      expect(chooseFloor({ ...faq, baselineAudits: 200, baselineLow: 0.02 }, 0.05, 30)).toBe(0.85);
      expect(chooseFloor({ ...faq, baselineAudits: 20, baselineLow: 0.02 }, 0.05, 30)).toBe(0.88);
      g.update([faq]);
      const changed = g.update([{ category: "faq", audits: 200, wrong: 4, low: 0.008, cuts }]);
      expect(changed.map((c) => [c.category, c.suspended, c.floor])).toEqual([["faq", false, 0]]);
      expect(g.floor("faq")).toBe(0);
    });

    it("never picks a cut that leaves out no wrong hit, and forgets a floor whose audits aged out", () => {
      // Every wrong hit sits at or above 0.88 here: no floor helps.
      expect(chooseFloor({ ...faq, wrong: 2, cuts: [{ similarity: 0.8, audits: 200, wrong: 2, high: 0.035 }] }, 0.05, 30)).toBeUndefined();
      const g = guard();
      g.update([faq]);
      expect(g.update([]).map((c) => [c.category, c.floor])).toEqual([["faq", 0]]);
      expect(g.floor("faq")).toBe(0);
    });
  });

  it("bars a refuted entry at or below the highest similarity it was refuted at, per tenant, up to maxEntryFloors", () => {
    const guard = new QualityGuard(qualityConfigSchema.parse({ maxWrongHitRate: 0.05, maxEntryFloors: 2 }));
    expect(guard.entryFloor("acme", "k1")).toBeUndefined();
    const n = guard.updateEntries([
      { tenant: "acme", entryId: "k1", similarity: 0.91 },
      { tenant: "acme", entryId: "k1", similarity: 0.95 },
      { tenant: "globex", entryId: "k2", similarity: 0.9 },
      { tenant: "acme", entryId: "k3", similarity: 0.99 }, // past the cap: the oldest go
    ]);
    expect(n).toBe(2);
    expect(guard.entryFloor("acme", "k1")).toBe(0.95);
    expect(guard.entryFloor("globex", "k2")).toBe(0.9);
    expect(guard.entryFloor("globex", "k1")).toBeUndefined();
    expect(guard.entryFloor("acme", "k3")).toBeUndefined();
    // Refutations that aged out of the window lift the bar.
    expect(guard.updateEntries([])).toBe(0);
    expect(guard.entryFloor("acme", "k1")).toBeUndefined();
  });

  it("keeps no entry floors with entryFloors off", () => {
    const guard = new QualityGuard(qualityConfigSchema.parse({ maxWrongHitRate: 0.05, entryFloors: false }));
    expect(guard.updateEntries([{ tenant: "acme", entryId: "k1", similarity: 0.91 }])).toBe(0);
    expect(guard.entryFloor("acme", "k1")).toBeUndefined();
  });
});
