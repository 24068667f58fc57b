// Builders shared by the analysis tests (not a test file itself: vitest only collects *.test.ts).
import type { TierName } from "#libs/config/closed-sets.ts";
import type { CellKey, MonthlyVolume, ProjectedCost, ShadowTestResult } from "./analyze.ts";

export const T0 = new Date("2025-06-01T00:00:00.000Z");
export const NOW = new Date("2025-07-01T03:00:00.000Z");

export const cell = (category: string, tier: TierName = "HIGH", servedModel = "gpt-4o", candidateModel = "gpt-4o-mini"): CellKey => ({ category, tier, servedModel, candidateModel });

/** n shadow tests of one cell, the first `passes` ok, one minute apart from `start`. */
export function tests(key: CellKey, n: number, passes: number, extra: Partial<ShadowTestResult> = {}, start = T0): ShadowTestResult[] {
  return Array.from({ length: n }, (_, i) => ({
    tenantId: "acme",
    ...key,
    ok: i < passes,
    score: i < passes ? 1 : 0,
    createdAt: new Date(start.getTime() + i * 60_000),
    ...extra,
  }));
}

export const volume = (key: CellKey, requests: number, costUsd: string | number): MonthlyVolume => ({ category: key.category, tier: key.tier, servedModel: key.servedModel, requests, costUsd });

/** $ per request by model. */
export const PER_REQUEST: Record<string, number> = { "gpt-4o": 0.01, "gpt-4o-mini": 0.0006, "claude-3-5-haiku-latest": 0.002, "claude-sonnet-4-5": 0.012, "o3-mini": 0.02 };
export const projectedCost: ProjectedCost = (model, requests) => (PER_REQUEST[model] ?? 1) * requests;
