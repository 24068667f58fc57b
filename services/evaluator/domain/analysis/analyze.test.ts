import { describe, expect, it } from "vitest";
import { analysisParamsSchema, analyzeShadowTests, testCells, type AnalysisInput, type CellReport } from "./analyze.ts";
import { binomialUpperTail } from "#libs/stats/binomial.ts";
import { cell, NOW, projectedCost, tests, volume } from "./fixtures.test-helpers.ts";

const run = (over: Partial<AnalysisInput>) => analyzeShadowTests({ results: [], volumes: [], projectedCost, generatedAt: NOW, ...over });
const find = (cells: CellReport[], category: string, candidate = "gpt-4o-mini"): CellReport => {
  const c = cells.find((x) => x.category === category && x.candidateModel === candidate);
  if (!c) throw new Error(`no cell ${category}/${candidate}`);
  return c;
};

const P30 = binomialUpperTail(30, 30, 0.9); // 0.0424: 30/30 is the least evidence that clears 90% alone at 0.05

describe("testCells: the decision rule at its boundaries (margin 0.1, alpha 0.05, minN 30)", () => {
  const params = analysisParamsSchema.parse({});
  it.each([
    { name: "30/30: p = 0.0424 < 0.05", cells: [{ n: 30, passes: 30 }], want: ["downgrade"] },
    { name: "29/30: p = 0.184", cells: [{ n: 30, passes: 29 }], want: ["keep"] },
    { name: "29/29: below minN, not tested", cells: [{ n: 29, passes: 29 }], want: ["insufficient"] },
    { name: "0/0 would be insufficient too", cells: [{ n: 0, passes: 0 }], want: ["insufficient"] },
    { name: "two 30/30 under Holm: 2 × 0.0424 = 0.085", cells: [{ n: 30, passes: 30 }, { n: 30, passes: 30 }], want: ["keep", "keep"] },
    { name: "insufficient cells stay out of the family", cells: [{ n: 30, passes: 30 }, { n: 5, passes: 5 }, { n: 29, passes: 29 }], want: ["downgrade", "insufficient", "insufficient"] },
    { name: "96/100 vs 95/100 (p = 0.024 / 0.058)", cells: [{ n: 100, passes: 96 }], want: ["downgrade"] },
    { name: "exactly the margin: 90/100", cells: [{ n: 100, passes: 90 }], want: ["keep"] },
  ])("$name", ({ cells, want }) => {
    expect(testCells(cells, params).map((t) => t.decision)).toEqual(want);
  });

  it("two 30/30 under BH: both adjusted to 0.0424, both downgrade", () => {
    const t = testCells([{ n: 30, passes: 30 }, { n: 30, passes: 30 }], { ...params, correction: "bh" });
    expect(t.map((x) => x.decision)).toEqual(["downgrade", "downgrade"]);
    expect(t[0]?.pAdjusted).toBeCloseTo(P30, 12);
  });

  it("adjusted p < alpha is strict: alpha = p keeps, alpha just above downgrades", () => {
    expect(testCells([{ n: 30, passes: 30 }], { ...params, alpha: P30 })[0]?.decision).toBe("keep");
    expect(testCells([{ n: 30, passes: 30 }], { ...params, alpha: P30 + 1e-12 })[0]?.decision).toBe("downgrade");
  });

  it("minN is inclusive", () => {
    expect(testCells([{ n: 40, passes: 40 }], { ...params, minN: 40 })[0]?.decision).toBe("downgrade");
    expect(testCells([{ n: 40, passes: 40 }], { ...params, minN: 41 })[0]?.decision).toBe("insufficient");
  });

  it("insufficient cells keep their raw p and get no adjusted p", () => {
    const [t] = testCells([{ n: 29, passes: 29 }], params);
    expect(t?.pAdjusted).toBeNull();
    expect(t?.p).toBeCloseTo(binomialUpperTail(29, 29, 0.9), 12);
  });

  it("the margin moves the threshold: 96/100 clears 90% but not 95%", () => {
    expect(testCells([{ n: 100, passes: 96 }], { ...params, margin: 0.05 })[0]?.decision).toBe("keep");
  });
});

describe("analyzeShadowTests", () => {
  const math = cell("math");
  const code = cell("code");
  const chat = cell("chat", "MEDIUM", "claude-3-5-haiku-latest", "gpt-4o-mini");

  it("groups by (category, tier, served, candidate) and reports counts, rate, Wilson CI and p", () => {
    const r = run({ results: [...tests(math, 10, 8), ...tests(code, 40, 40)], params: { minN: 10 } });
    const m = find(r.cells, "math");
    expect(m).toMatchObject({ category: "math", tier: "HIGH", servedModel: "gpt-4o", candidateModel: "gpt-4o-mini", n: 10, passes: 8, rate: 0.8, meanScore: 0.8 });
    expect(m.ci[0]).toBeCloseTo(0.49, 3);
    expect(m.ci[1]).toBeCloseTo(0.943, 3);
    expect(m.p).toBeCloseTo(binomialUpperTail(8, 10, 0.9), 12);
    expect(r.summary).toMatchObject({ tests: 50, cells: 2, tested: 2, downgrade: 1, keep: 1, insufficient: 0 });
    expect(r.params).toEqual({ alpha: 0.05, margin: 0.1, minN: 10, correction: "holm", confidence: 0.95, test: "exact" });
  });

  it("insufficient data below minN, whatever the rate", () => {
    const r = run({ results: tests(math, 29, 29) });
    expect(r.cells[0]).toMatchObject({ decision: "insufficient", pAdjusted: null, inPatch: false, projectedMonthlySavingsUsd: 0 });
    expect(r.summary).toMatchObject({ tested: 0, insufficient: 1, overrides: 0, projectedMonthlySavingsUsd: 0 });
  });

  it("projects monthly savings from the ledger volume and the injected pricing", () => {
    const r = run({
      results: [...tests(math, 200, 198), ...tests(code, 200, 150), ...tests(chat, 200, 199)],
      volumes: [volume(math, 10_000, "100.000000"), volume(code, 5_000, 50), volume(chat, 2_000, "4.5")],
      // The cell is passed through: a pricing that needs the cell's token profile can use it.
      projectedCost: (model, requests, key) => (key.category === "chat" ? 0.0005 : (model === "gpt-4o-mini" ? 0.0006 : 1)) * requests,
    });
    const m = find(r.cells, "math");
    expect(m).toMatchObject({ decision: "downgrade", inPatch: true, monthlyRequests: 10_000, servedMonthlyCostUsd: 100 });
    expect(m.potentialMonthlySavingsUsd).toBeCloseTo(100 - 6, 6);
    expect(m.projectedMonthlySavingsUsd).toBeCloseTo(94, 6);
    const c = find(r.cells, "code");
    expect(c).toMatchObject({ decision: "keep", inPatch: false, projectedMonthlySavingsUsd: 0 });
    expect(c.potentialMonthlySavingsUsd).toBeCloseTo(50 - 3, 6);
    const h = find(r.cells, "chat");
    expect(h.projectedMonthlySavingsUsd).toBeCloseTo(4.5 - 1, 6);
    expect(r.summary.overrides).toBe(2);
    expect(r.summary.projectedMonthlySavingsUsd).toBeCloseTo(94 + 3.5, 6);
    expect(r.summary.currentMonthlyCostUsd).toBeCloseTo(104.5, 6);
    expect(r.summary.monthlyRequests).toBe(12_000);
  });

  it("sums volume rows with the same key and leaves savings unknown (null) without one", () => {
    const r = run({ results: [...tests(math, 100, 100), ...tests(code, 100, 100)], volumes: [volume(math, 600, "6"), volume(math, 400, 4)] });
    expect(find(r.cells, "math")).toMatchObject({ monthlyRequests: 1000, servedMonthlyCostUsd: 10 });
    expect(find(r.cells, "code")).toMatchObject({ decision: "downgrade", inPatch: true, monthlyRequests: null, potentialMonthlySavingsUsd: null, projectedMonthlySavingsUsd: null });
  });

  it("a downgrade that would not be cheaper is not proposed", () => {
    const dear = cell("math", "HIGH", "gpt-4o", "o3-mini");
    const r = run({ results: tests(dear, 100, 100), volumes: [volume(dear, 1000, "10")] });
    expect(r.cells[0]).toMatchObject({ decision: "downgrade", inPatch: false, projectedMonthlySavingsUsd: 0 });
    expect(r.cells[0]?.note).toMatch(/^not cheaper: o3-mini would cost \$10\.00 more/);
    expect(r.summary.overrides).toBe(0);
  });

  it("one override per (category, tier, served model): the candidate that saves most", () => {
    const haiku = cell("math", "HIGH", "gpt-4o", "claude-3-5-haiku-latest");
    const r = run({ results: [...tests(math, 100, 100), ...tests(haiku, 100, 100)], volumes: [volume(math, 1000, "10")] });
    expect(find(r.cells, "math")).toMatchObject({ decision: "downgrade", inPatch: true, note: "" });
    expect(find(r.cells, "math", "claude-3-5-haiku-latest")).toMatchObject({ decision: "downgrade", inPatch: false, projectedMonthlySavingsUsd: 0 });
    expect(find(r.cells, "math", "claude-3-5-haiku-latest").note).toContain("superseded by gpt-4o-mini");
  });

  it("sorts by decision, then savings (unknown last), then key", () => {
    const law = cell("law");
    const r = run({
      results: [...tests(cell("a-none"), 100, 100), ...tests(math, 100, 100), ...tests(law, 100, 100), ...tests(code, 100, 80), ...tests(cell("tiny"), 3, 3)],
      volumes: [volume(math, 100, "1"), volume(law, 1000, "10"), volume(code, 10_000, "100")],
    });
    expect(r.cells.map((c) => `${c.decision}:${c.category}`)).toEqual(["downgrade:law", "downgrade:math", "downgrade:a-none", "keep:code", "insufficient:tiny"]);
  });

  it("filters by tenant and by [since, until)", () => {
    const results = [...tests(math, 50, 50, { tenantId: "acme" }), ...tests(math, 50, 0, { tenantId: "beta" })];
    expect(run({ results }).cells[0]).toMatchObject({ n: 100, passes: 50 });
    const acme = run({ results, tenantId: "acme" });
    expect(acme.cells[0]).toMatchObject({ n: 50, passes: 50 });
    expect(acme.summary.tenantId).toBe("acme");
    const t = tests(math, 10, 10);
    const w = run({ results: t, since: t[2]?.createdAt, until: t[7]?.createdAt });
    expect(w.cells[0]?.n).toBe(5);
    expect(w.summary.window).toEqual({ from: t[2]?.createdAt.toISOString(), to: t[6]?.createdAt.toISOString() });
  });

  it("observedCostRatio from the tests that carry both costs (decimal strings)", () => {
    const r = run({
      results: [
        ...tests(math, 2, 2, { servedCostUsd: "0.0100", candidateCostUsd: "0.0010" }),
        ...tests(math, 1, 1, { servedCostUsd: "0.0200", candidateCostUsd: "0.0010" }),
        ...tests(math, 3, 3, { servedCostUsd: "0.05" }),
        ...tests(math, 1, 1, { servedCostUsd: "0.05", candidateCostUsd: null }),
      ],
    });
    expect(r.cells[0]?.observedCostRatio).toBeCloseTo(0.003 / 0.04, 12);
    expect(run({ results: tests(math, 3, 3) }).cells[0]?.observedCostRatio).toBeNull();
  });

  it("produces a plain JSON report (round-trips through JSON unchanged)", () => {
    const r = run({ results: [...tests(math, 100, 99), ...tests(code, 3, 1)], volumes: [volume(math, 10, "0.1")] });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    expect(r.generatedAt).toBe("2025-07-01T03:00:00.000Z");
  });

  it("an empty night is a valid report", () => {
    const r = run({});
    expect(r.cells).toEqual([]);
    expect(r.summary).toMatchObject({ tests: 0, cells: 0, overrides: 0, window: null, projectedMonthlySavingsUsd: 0 });
  });

  it.each([{ alpha: 0 }, { alpha: 1 }, { margin: 0 }, { margin: 1 }, { minN: 0 }, { minN: 2.5 }, { confidence: 1 }])("refuses params %o", (params) => {
    expect(() => run({ params })).toThrow();
  });

  it("refuses a bad volume or a pricing that returns no number", () => {
    expect(() => run({ results: tests(math, 3, 3), volumes: [volume(math, -1, "1")] })).toThrow(RangeError);
    expect(() => run({ results: tests(math, 3, 3), volumes: [volume(math, 1, "abc")] })).toThrow(RangeError);
    expect(() => run({ results: tests(math, 3, 3), volumes: [volume(math, 1, "1")], projectedCost: () => Number.NaN })).toThrow(RangeError);
  });
});
