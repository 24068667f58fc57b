// The nightly analysis (issue #8 item 3), pure part: from shadow test verdicts and last month's
// ledger volumes, decide per cell (category, tier, served model → candidate model) whether the
// cheaper candidate can serve that traffic, with the error rate of the whole sweep under control.
//
// Per cell: n tests, passes (the candidate's answer judged acceptable against the served one), the
// pass rate, a two-sided Wilson interval, and a one-sided non-inferiority test of
//   H0: rate ≤ 1 − margin   against   H1: rate > 1 − margin
// (exact binomial tail by default, see nonInferiorityPValue). Cells with n < minN are "insufficient"
// and stay out of the family; the p-values of the others are adjusted together (Holm by default,
// Benjamini–Hochberg on request) and a cell is "downgrade" only when its adjusted p < alpha.
import { z } from "zod";
import { TIER_NAMES, type TierName } from "#libs/config/closed-sets.ts";
import { fmtUsd } from "./format.ts";
import { adjustPValues, CORRECTIONS } from "./multiplicity.ts";
import { NON_INFERIORITY_TESTS, nonInferiorityPValue, wilsonInterval } from "#libs/stats/binomial.ts";

/** One shadow test: the sampled request was replayed on candidateModel and judged against servedModel's answer. */
export interface ShadowTestResult {
  tenantId: string;
  category: string;
  tier: TierName;
  servedModel: string;
  candidateModel: string;
  /** The combined verdict: the candidate's answer is acceptable in place of the served one. */
  ok: boolean;
  score: number;
  /** Decimal strings as the ledger stores them (null = unknown price); both known → the pair enters observedCostRatio. */
  candidateCostUsd?: string | null;
  servedCostUsd?: string | null;
  createdAt: Date;
}

/** Last month's ledger volume of one (category, tier, served model). Rows with the same key are summed. */
export interface MonthlyVolume {
  category: string;
  tier: TierName;
  servedModel: string;
  requests: number;
  /** What that traffic cost (decimal string from the ledger, or a number). */
  costUsd: string | number;
}

export interface CellKey {
  category: string;
  tier: TierName;
  servedModel: string;
  candidateModel: string;
}

/** What `requests` requests of this cell would cost on `model` at current prices (injected: prices and token profile live elsewhere). */
export type ProjectedCost = (model: string, requests: number, cell: CellKey) => number;

export const analysisParamsSchema = z
  .object({
    /** Level of the whole sweep: FWER for holm, FDR for bh. */
    alpha: z.number().gt(0).lt(1).default(0.05),
    /** δ: the candidate must agree with the served answer at a rate above 1 − δ. */
    margin: z.number().gt(0).lt(1).default(0.1),
    /** Cells with fewer tests are "insufficient" and are not tested. */
    minN: z.number().int().min(1).default(30),
    correction: z.enum(CORRECTIONS).default("holm"),
    /** Of the two-sided Wilson interval shown per cell (descriptive; not adjusted for multiplicity). */
    confidence: z.number().gt(0).lt(1).default(0.95),
    test: z.enum(NON_INFERIORITY_TESTS).default("exact"),
  })
  .strict();
export type AnalysisParams = z.infer<typeof analysisParamsSchema>;
export type AnalysisParamsInput = z.input<typeof analysisParamsSchema>;

export const DECISIONS = ["downgrade", "keep", "insufficient"] as const;
export type Decision = (typeof DECISIONS)[number];

export interface CellReport extends CellKey {
  n: number;
  passes: number;
  rate: number;
  /** Two-sided Wilson interval at params.confidence. */
  ci: [number, number];
  /** Mean combined score of the tests (null when no score was finite). */
  meanScore: number | null;
  /** Unadjusted one-sided p-value (shown for insufficient cells too). */
  p: number;
  /** Adjusted within the family of tested cells; null for insufficient cells (not in the family). */
  pAdjusted: number | null;
  decision: Decision;
  /** Savings the recommendation brings: potential savings of a cell in the patch, 0 otherwise, null when the ledger has no volume for it. */
  projectedMonthlySavingsUsd: number | null;
  /** servedMonthlyCostUsd − projectedCost(candidate, monthlyRequests), whatever the decision; null without volume. */
  potentialMonthlySavingsUsd: number | null;
  monthlyRequests: number | null;
  servedMonthlyCostUsd: number | null;
  /** Σ candidate cost / Σ served cost over the tests that carry both (a cross-check of the projection). */
  observedCostRatio: number | null;
  /** A routing override is proposed for this cell (a "downgrade" that is cheaper and not superseded). */
  inPatch: boolean;
  /** Why a "downgrade" cell is not in the patch; "" otherwise. */
  note: string;
}

export interface AnalysisSummary {
  /** Shadow tests analysed (after the tenant and window filters). */
  tests: number;
  cells: number;
  /** Cells with n ≥ minN: the family the correction runs over. */
  tested: number;
  downgrade: number;
  keep: number;
  insufficient: number;
  /** Cells in the YAML patch. */
  overrides: number;
  /** Σ projectedMonthlySavingsUsd of the cells in the patch (unknown volumes count 0). */
  projectedMonthlySavingsUsd: number;
  /** What the traffic of the cells in the patch costs today, and how many requests it is. */
  currentMonthlyCostUsd: number;
  monthlyRequests: number;
  /** createdAt of the first and last test analysed (ISO); null when there is none. */
  window: { from: string; to: string } | null;
  tenantId: string | null;
}

export interface AnalysisReport {
  generatedAt: string;
  params: AnalysisParams;
  cells: CellReport[];
  summary: AnalysisSummary;
}

export interface AnalysisInput {
  results: Iterable<ShadowTestResult>;
  volumes: Iterable<MonthlyVolume>;
  projectedCost: ProjectedCost;
  params?: AnalysisParamsInput;
  /** Stamped on the report (injected: the analysis reads no clock). */
  generatedAt: Date;
  /** Only this tenant's tests (overrides are global, so the default is every tenant). */
  tenantId?: string;
  /** Only tests with since ≤ createdAt < until. */
  since?: Date;
  until?: Date;
}

/** Per cell of a family: its counts. */
export interface CellCounts {
  n: number;
  passes: number;
}

export interface CellTest {
  p: number;
  pAdjusted: number | null;
  decision: Decision;
}

/**
 * The decision rule alone, on counts: p per cell, adjustment over the cells with n ≥ minN,
 * "downgrade" iff adjusted p < alpha. analyzeShadowTests uses it; so does the noise-sweep test.
 */
export function testCells(cells: readonly CellCounts[], params: AnalysisParams): CellTest[] {
  const threshold = 1 - params.margin;
  const p = cells.map((c) => nonInferiorityPValue(c.passes, c.n, threshold, params.test));
  const family = cells.map((c, i) => ({ i, tested: c.n >= params.minN })).filter((c) => c.tested);
  const adjusted = adjustPValues(
    family.map((c) => p[c.i] as number),
    params.correction,
  );
  const pAdjusted = new Array<number | null>(cells.length).fill(null);
  family.forEach((c, j) => {
    pAdjusted[c.i] = adjusted[j] as number;
  });
  return cells.map((_, i) => {
    const pa = pAdjusted[i] ?? null;
    return { p: p[i] as number, pAdjusted: pa, decision: pa === null ? "insufficient" : pa < params.alpha ? "downgrade" : "keep" };
  });
}

interface Acc {
  key: CellKey;
  n: number;
  passes: number;
  scoreSum: number;
  scored: number;
  pairedServed: number;
  pairedCandidate: number;
  paired: number;
}

const SEP = "\u0000";
const volumeKey = (category: string, tier: string, servedModel: string): string => [category, tier, servedModel].join(SEP);

export function analyzeShadowTests(input: AnalysisInput): AnalysisReport {
  const params = analysisParamsSchema.parse(input.params ?? {});
  const accs = new Map<string, Acc>();
  let tests = 0;
  let from: Date | undefined;
  let to: Date | undefined;
  for (const r of input.results) {
    if (input.tenantId !== undefined && r.tenantId !== input.tenantId) continue;
    if (input.since && r.createdAt < input.since) continue;
    if (input.until && r.createdAt >= input.until) continue;
    if (!TIER_NAMES.includes(r.tier)) throw new RangeError(`shadow test result: unknown tier '${String(r.tier)}'`);
    tests++;
    if (!from || r.createdAt < from) from = r.createdAt;
    if (!to || r.createdAt > to) to = r.createdAt;
    const id = [r.category, r.tier, r.servedModel, r.candidateModel].join(SEP);
    let a = accs.get(id);
    if (!a) {
      a = { key: { category: r.category, tier: r.tier, servedModel: r.servedModel, candidateModel: r.candidateModel }, n: 0, passes: 0, scoreSum: 0, scored: 0, pairedServed: 0, pairedCandidate: 0, paired: 0 };
      accs.set(id, a);
    }
    a.n++;
    if (r.ok) a.passes++;
    if (Number.isFinite(r.score)) {
      a.scoreSum += r.score;
      a.scored++;
    }
    const served = usd(r.servedCostUsd);
    const candidate = usd(r.candidateCostUsd);
    if (served !== undefined && candidate !== undefined) {
      a.pairedServed += served;
      a.pairedCandidate += candidate;
      a.paired++;
    }
  }

  const volumes = new Map<string, { requests: number; costUsd: number }>();
  for (const v of input.volumes) {
    const cost = usd(v.costUsd);
    if (!Number.isFinite(v.requests) || v.requests < 0 || cost === undefined) throw new RangeError(`monthly volume ${v.category}/${v.tier}/${v.servedModel}: requests and costUsd must be finite and non-negative numbers`);
    const k = volumeKey(v.category, v.tier, v.servedModel);
    const prev = volumes.get(k) ?? { requests: 0, costUsd: 0 };
    volumes.set(k, { requests: prev.requests + v.requests, costUsd: prev.costUsd + cost });
  }

  const list = [...accs.values()];
  const decided = testCells(list, params);
  const cells: CellReport[] = list.map((a, i) => {
    const t = decided[i] as CellTest;
    const vol = volumes.get(volumeKey(a.key.category, a.key.tier, a.key.servedModel));
    let potential: number | null = null;
    if (vol) {
      const candidateCost = input.projectedCost(a.key.candidateModel, vol.requests, a.key);
      if (!Number.isFinite(candidateCost)) throw new RangeError(`projectedCost(${a.key.candidateModel}, ${vol.requests}) is not a finite number: ${candidateCost}`);
      potential = money(vol.costUsd - candidateCost);
    }
    return {
      ...a.key,
      n: a.n,
      passes: a.passes,
      rate: a.passes / a.n,
      ci: wilsonInterval(a.passes, a.n, params.confidence),
      meanScore: a.scored > 0 ? a.scoreSum / a.scored : null,
      p: t.p,
      pAdjusted: t.pAdjusted,
      decision: t.decision,
      projectedMonthlySavingsUsd: 0,
      potentialMonthlySavingsUsd: potential,
      monthlyRequests: vol ? vol.requests : null,
      servedMonthlyCostUsd: vol ? money(vol.costUsd) : null,
      observedCostRatio: a.paired > 0 && a.pairedServed > 0 ? a.pairedCandidate / a.pairedServed : null,
      inPatch: false,
      note: "",
    };
  });

  selectPatch(cells);
  cells.sort(compareCells);

  const inPatch = cells.filter((c) => c.inPatch);
  const count = (d: Decision): number => cells.filter((c) => c.decision === d).length;
  return {
    generatedAt: input.generatedAt.toISOString(),
    params,
    cells,
    summary: {
      tests,
      cells: cells.length,
      tested: cells.filter((c) => c.pAdjusted !== null).length,
      downgrade: count("downgrade"),
      keep: count("keep"),
      insufficient: count("insufficient"),
      overrides: inPatch.length,
      projectedMonthlySavingsUsd: money(inPatch.reduce((s, c) => s + (c.projectedMonthlySavingsUsd ?? 0), 0)),
      currentMonthlyCostUsd: money(inPatch.reduce((s, c) => s + (c.servedMonthlyCostUsd ?? 0), 0)),
      monthlyRequests: inPatch.reduce((s, c) => s + (c.monthlyRequests ?? 0), 0),
      window: from && to ? { from: from.toISOString(), to: to.toISOString() } : null,
      tenantId: input.tenantId ?? null,
    },
  };
}

/**
 * Which "downgrade" cells become overrides. The router can put one model first per (category, tier,
 * served model), so when several candidates qualify for the same served model the one that saves
 * most wins (then the higher Wilson lower bound, then the name); a candidate that would not be
 * cheaper for the cell's volume is left out. Sets inPatch, note and projectedMonthlySavingsUsd.
 */
function selectPatch(cells: CellReport[]): void {
  const groups = new Map<string, CellReport[]>();
  for (const c of cells) {
    if (c.decision !== "downgrade") continue;
    if (c.potentialMonthlySavingsUsd !== null && c.potentialMonthlySavingsUsd <= 0) {
      c.note = `not cheaper: ${c.candidateModel} would cost ${fmtUsd(-c.potentialMonthlySavingsUsd)} more per month than ${c.servedModel} on this traffic`;
      continue;
    }
    const k = volumeKey(c.category, c.tier, c.servedModel);
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  for (const group of groups.values()) {
    group.sort((a, b) => savingsDesc(a, b) || b.ci[0] - a.ci[0] || a.candidateModel.localeCompare(b.candidateModel));
    const [best, ...rest] = group as [CellReport, ...CellReport[]];
    best.inPatch = true;
    best.projectedMonthlySavingsUsd = best.potentialMonthlySavingsUsd;
    for (const c of rest) c.note = `superseded by ${best.candidateModel} for ${c.servedModel} traffic (one override per category, tier and served model)`;
  }
}

const DECISION_RANK: Record<Decision, number> = { downgrade: 0, keep: 1, insufficient: 2 };

/** Savings descending, unknown (null) last. */
function savingsDesc(a: CellReport, b: CellReport): number {
  const x = a.potentialMonthlySavingsUsd;
  const y = b.potentialMonthlySavingsUsd;
  if (x === null || y === null) return (x === null ? 1 : 0) - (y === null ? 1 : 0);
  return y - x;
}

/** Decision (downgrade, keep, insufficient), then potential savings descending, then the key. */
export function compareCells(a: CellReport, b: CellReport): number {
  return (
    DECISION_RANK[a.decision] - DECISION_RANK[b.decision] ||
    savingsDesc(a, b) ||
    a.category.localeCompare(b.category) ||
    TIER_NAMES.indexOf(a.tier) - TIER_NAMES.indexOf(b.tier) ||
    a.servedModel.localeCompare(b.servedModel) ||
    a.candidateModel.localeCompare(b.candidateModel)
  );
}

function usd(v: string | number | null | undefined): number | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  const x = typeof v === "number" ? v : Number(v);
  return Number.isFinite(x) && x >= 0 ? x : undefined;
}

/** Rounded to the micro-dollar, the ledger's unit. */
function money(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
