// The pure parts of `eval-savings --learn`: the seeded split of the prompts in two halves, the configuration the run
// changes (shadow sampling on), the shadow-test results rebuilt from the evaluator's findings, and the report lines.
import { TIER_NAMES, type TierName } from "#libs/config/closed-sets.ts";
import type { Config } from "#libs/config/schema.ts";
import { hashString } from "#libs/simulator/hash.ts";
import type { AnalysisReport, ShadowTestResult } from "#services/evaluator/domain/analysis/index.ts";
import type { SavingsResult } from "./references.ts";

/**
 * Two halves of the rows, seeded and stable: rows are ordered by a seeded hash of their id and the first ceil(n/2)
 * learn, the rest evaluate. A row's rank depends only on its id and the seed, not on which other rows were picked.
 */
export function splitHalves<R extends { rowId: string }>(rows: readonly R[], seed: number): { learn: R[]; evaluate: R[] } {
  const keyed = rows.map((r) => ({ r, h: hashString(r.rowId, seed ^ 0x1ea2) }));
  keyed.sort((a, b) => a.h - b.h || (a.r.rowId < b.r.rowId ? -1 : a.r.rowId > b.r.rowId ? 1 : 0));
  const cut = Math.ceil(rows.length / 2);
  const inLearn = new Set(keyed.slice(0, cut).map((k) => k.r.rowId));
  // Keep the incoming (seeded) order within each half.
  return { learn: rows.filter((r) => inLearn.has(r.rowId)), evaluate: rows.filter((r) => !inLearn.has(r.rowId)) };
}

/** Tiers a shadow test can sample: every tier with a cheaper tier below it (LOW has none). */
export const SHADOW_TIERS: readonly TierName[] = TIER_NAMES.filter((t) => t !== "LOW");

/** "MEDIUM,HIGH" → the tiers; throws on an unknown tier, on LOW, or on an empty list. */
export function parseShadowTiers(list: string): TierName[] {
  const names = list.split(",").map((t) => t.trim()).filter((t) => t !== "");
  const tiers = names.filter((t): t is TierName => (SHADOW_TIERS as readonly string[]).includes(t));
  if (names.length === 0 || tiers.length !== names.length) throw new Error(`--shadow-tiers: a comma-separated list of ${SHADOW_TIERS.join(", ")} (LOW has no cheaper tier), got '${list}'`);
  return [...new Set(tiers)];
}

export interface ShadowSettings {
  sampleRate: number;
  tiers: readonly TierName[];
  dailyCapUsd: number;
  /** Tenants never shadow-tested (the evaluation passes). */
  excludeTenants: readonly string[];
}

/** The shipped configuration with shadow sampling switched on; `changes` names every key changed, old → new. */
export function learnConfig(shipped: Config, s: ShadowSettings): { config: Config; changes: string[] } {
  const config = structuredClone(shipped);
  const sh = config.routing.shadow;
  const changes: string[] = [];
  const set = <K extends keyof typeof sh>(key: K, value: (typeof sh)[K]): void => {
    if (JSON.stringify(sh[key]) === JSON.stringify(value)) return;
    changes.push(`routing.shadow.${String(key)}: ${JSON.stringify(sh[key])} -> ${JSON.stringify(value)}`);
    sh[key] = value;
  };
  set("sample_rate", s.sampleRate);
  set("tiers", [...s.tiers]);
  set("daily_cap_usd", s.dailyCapUsd);
  set("exclude_tenants", [...new Set([...sh.exclude_tenants, ...s.excludeTenants])]);
  return { config, changes };
}

/** One cell of GetDowngradeReport, as the evaluator reports it. */
export interface FindingCell {
  category: string;
  tier: TierName;
  from: string;
  to: string;
  samples: number;
  passRate: number;
}

/**
 * The shadow tests behind the findings: per cell `samples` results of which round(passRate × samples) passed. The
 * findings carry no per-test score or cost, so score is 1/0 with the verdict and costs are unknown.
 */
export function resultsFromFindings(cells: readonly FindingCell[], tenantId: string, at: Date): ShadowTestResult[] {
  const out: ShadowTestResult[] = [];
  for (const c of cells) {
    const passes = Math.round(c.passRate * c.samples);
    for (let i = 0; i < c.samples; i++) {
      const ok = i < passes;
      out.push({ tenantId, category: c.category, tier: c.tier, servedModel: c.from, candidateModel: c.to, ok, score: ok ? 1 : 0, createdAt: at });
    }
  }
  return out;
}

export interface LearnLine {
  name: string;
  cost_usd: number;
  baseline_usd: number;
  savings: number;
  quality: number;
  retained: number | null;
}

export function learnLine(r: SavingsResult): LearnLine {
  return { name: r.name, cost_usd: r.cost_usd, baseline_usd: r.baseline_usd, savings: r.savings, quality: r.quality, retained: r.retained };
}

/** One line per analysed cell: key, n, passes, rate, adjusted p and decision (and why it is not in the patch). */
export function cellLines(report: AnalysisReport): string[] {
  return report.cells.map(
    (c) =>
      `${c.category}/${c.tier} ${c.servedModel} -> ${c.candidateModel}: n=${c.n} passes=${c.passes} rate=${c.rate.toFixed(3)} p_adj=${c.pAdjusted === null ? "-" : c.pAdjusted.toPrecision(3)} ${c.decision}${c.inPatch ? " (in patch)" : ""}${c.note ? ` (${c.note})` : ""}`,
  );
}
