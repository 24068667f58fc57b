// Mapping from P(strong needed) to a tier; shared by the rule-based and learned classifiers.
import type { TierName } from "#libs/config/closed-sets.ts";
import type { TierThresholds } from "./types.ts";

export function tierFor(p: number, hasTools: boolean, t: TierThresholds): TierName {
  if (hasTools) return "AGENTIC";
  if (p >= t.high) return "HIGH";
  if (p >= t.medium) return "MEDIUM";
  return "LOW";
}

/** Tiers that the router sends to the strong model. */
export function needsStrong(tier: TierName): boolean {
  return tier === "HIGH" || tier === "AGENTIC";
}

/** 0.5 at the HIGH boundary, 1 at the extremes. */
export function decisionConfidence(p: number, high: number): number {
  const span = p >= high ? 1 - high : high;
  if (span <= 0) return 1;
  return Math.min(1, 0.5 + (0.5 * Math.abs(p - high)) / span);
}

export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}
