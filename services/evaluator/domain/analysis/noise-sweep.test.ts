// A sweep of 57 categories in which no candidate is actually good enough: every true pass rate is at
// (or below) the margin, so every "downgrade" is a false recommendation. Seeded, so the shares below
// are fixed numbers, not flaky ones. Holm must keep the share of nights with at least one false
// recommendation at or below alpha; without a correction nearly every night would produce one.
import { describe, expect, it } from "vitest";
import { analysisParamsSchema, analyzeShadowTests, testCells, type AnalysisParams, type CellCounts, type ShadowTestResult } from "./analyze.ts";
import { NOW, T0 } from "./fixtures.test-helpers.ts";
import { createRng } from "#libs/random/rng.ts";


function binomial(n: number, p: number, u: () => number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (u() < p) k++;
  return k;
}

const CATEGORIES = 57;
const RUNS = 2000;
const ALPHA = 0.05;
const MARGIN = 0.1;
/** Cells of very different sizes, all ≥ minN: 30..300 tests. */
const SIZES = Array.from({ length: CATEGORIES }, (_, i) => 30 + ((i * 37) % 271));

/** Share of simulated nights with at least one "downgrade" when every cell's true rate is `rate`. */
function falseAlarmShare(rate: number, params: AnalysisParams, decide: (cells: CellCounts[]) => boolean[], seed: number): number {
  const u = createRng(seed);
  let nights = 0;
  for (let r = 0; r < RUNS; r++) {
    const cells = SIZES.map((n) => ({ n, passes: binomial(n, rate, u) }));
    if (decide(cells).some(Boolean)) nights++;
  }
  return nights / RUNS;
}

const params = (over: Partial<AnalysisParams> = {}): AnalysisParams => analysisParamsSchema.parse({ alpha: ALPHA, margin: MARGIN, minN: 30, ...over });
const corrected = (p: AnalysisParams) => (cells: CellCounts[]) => testCells(cells, p).map((t) => t.decision === "downgrade");
const uncorrected = (p: AnalysisParams) => (cells: CellCounts[]) => testCells(cells, p).map((t) => t.p < p.alpha);

describe(`noise sweep: ${CATEGORIES} categories, ${RUNS} seeded nights, no cell truly above the margin`, () => {
  it("Holm, true rate exactly at the margin (1 − δ): share of nights with ≥ 1 false downgrade ≤ alpha", () => {
    const share = falseAlarmShare(1 - MARGIN, params(), corrected(params()), 1);
    expect(share).toBeLessThanOrEqual(ALPHA);
    // The exact test is discrete and conservative, so the realised rate sits below alpha but is not 0: the test has power to spare.
    expect(share).toBeGreaterThan(0);
  });

  it("Holm, true rate 2 points below the margin: false downgrades all but vanish", () => {
    expect(falseAlarmShare(1 - MARGIN - 0.02, params(), corrected(params()), 2)).toBeLessThanOrEqual(0.005);
  });

  it("BH under the complete null (every cell at the margin) controls the same share", () => {
    const p = params({ correction: "bh" });
    expect(falseAlarmShare(1 - MARGIN, p, corrected(p), 3)).toBeLessThanOrEqual(ALPHA);
  });

  it("without a correction most nights would recommend at least one false downgrade", () => {
    expect(falseAlarmShare(1 - MARGIN, params(), uncorrected(params()), 1)).toBeGreaterThan(0.75);
  });

  it("and the corrected procedure still finds cells that are truly better, given enough tests (power check)", () => {
    const u = createRng(4);
    const p = params();
    // Even cells truly at 97%, the others at the margin. Holm over 57 cells needs p < 0.05/57 for the
    // first rejection, which 30/30 (p = 0.042) can never reach: with perfect agreement a cell needs
    // n ≥ 67 (0.9^67 < 0.05/57). So power is counted on the cells with n ≥ 150.
    let big = 0;
    let found = 0;
    let falseFound = 0;
    let nulls = 0;
    for (let r = 0; r < 200; r++) {
      const cells = SIZES.map((n, i) => ({ n, passes: binomial(n, i % 2 === 0 ? 0.97 : 1 - MARGIN, u) }));
      testCells(cells, p).forEach((t, i) => {
        const good = i % 2 === 0;
        if (good && (cells[i]?.n ?? 0) >= 150) {
          big++;
          if (t.decision === "downgrade") found++;
        }
        if (!good) {
          nulls++;
          if (t.decision === "downgrade") falseFound++;
        }
      });
    }
    expect(found / big).toBeGreaterThan(0.75); // 0.80 with this seed
    expect(falseFound / nulls).toBeLessThan(ALPHA / 10);
    expect(SIZES.filter((n) => n < 67).length).toBeGreaterThan(0);
    expect(testCells([{ n: 66, passes: 66 }, ...SIZES.slice(1).map((n) => ({ n, passes: Math.round(n * 0.9) }))], p)[0]?.decision).toBe("keep");
  });

  it("analyzeShadowTests decides a simulated night exactly as testCells does", () => {
    const u = createRng(5);
    const p = params();
    const counts = SIZES.map((n) => ({ n, passes: binomial(n, 0.95, u) }));
    const results: ShadowTestResult[] = counts.flatMap((c, i) =>
      Array.from({ length: c.n }, (_, j) => ({ tenantId: "t", category: `cat-${String(i).padStart(2, "0")}`, tier: "HIGH" as const, servedModel: "gpt-4o", candidateModel: "gpt-4o-mini", ok: j < c.passes, score: 1, createdAt: T0 })),
    );
    const report = analyzeShadowTests({ results, volumes: [], projectedCost: () => 0, generatedAt: NOW, params: p });
    const want = testCells(counts, p);
    counts.forEach((c, i) => {
      const got = report.cells.find((x) => x.category === `cat-${String(i).padStart(2, "0")}`);
      expect(got).toMatchObject({ n: c.n, passes: c.passes, decision: want[i]?.decision, pAdjusted: want[i]?.pAdjusted });
    });
  });
});
