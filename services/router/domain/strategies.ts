// How each routing strategy orders a tier's candidates, best first. The strategy names come from
// libs/config/closed-sets.ts (STRATEGIES); this table must have exactly one comparator per name.
import type { Strategy } from "#libs/config/closed-sets.ts";
import type { ModelView } from "./types.ts";

export type Comparator = (a: ModelView, b: ModelView) => number;

export const COMPARATORS: Readonly<Record<Strategy, Comparator>> = {
  // Unpriced models go last.
  cost: (a, b) => (a.blendedPrice ?? Infinity) - (b.blendedPrice ?? Infinity),
  // Higher quality rank first.
  quality: (a, b) => b.quality - a.quality,
  // Lower measured p50 latency first.
  latency: (a, b) => a.latencyMs - b.latencyMs,
};

/** A sorted copy of `list` (the input is left as is). */
export function orderBy(list: readonly ModelView[], strategy: Strategy): ModelView[] {
  return [...list].sort(COMPARATORS[strategy]);
}
