import { describe, expect, it } from "vitest";
import { QualityGuard, qualityConfigSchema } from "./quality-guard.ts";

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
});
