// Which configured models play the recorded weak side and which the strong side of a router benchmark, derived from
// the gateway's own configuration: a model listed in the HIGH or AGENTIC tier, or the reference model, is strong;
// every other configured model (the cheap tiers, and any model in no tier) is weak. Pure.
import type { TierName } from "#libs/config/closed-sets.ts";
import type { Config } from "#libs/config/schema.ts";
import type { PriceTable } from "#libs/pricing/index.ts";

export const STRONG_TIERS: readonly TierName[] = ["HIGH", "AGENTIC"];

export interface SideMapping {
  weakModels: string[];
  strongModels: string[];
}

export type RoutingSection = Pick<Config, "models" | "routing">;

/** Every chat model the configuration names (models section first, then any tier entry not in it), in order. Embedding models answer no prompt. */
function configuredModels(cfg: RoutingSection): string[] {
  const seen = new Set<string>(Object.entries(cfg.models).filter(([, m]) => m.kind !== "embedding").map(([id]) => id));
  for (const list of Object.values(cfg.routing.tiers)) for (const m of list ?? []) seen.add(m);
  return [...seen];
}

export function sideMapping(cfg: RoutingSection): SideMapping {
  const strong = new Set<string>();
  for (const tier of STRONG_TIERS) for (const m of cfg.routing.tiers[tier] ?? []) strong.add(m);
  strong.add(cfg.routing.reference_model);
  const all = configuredModels(cfg);
  return {
    weakModels: all.filter((m) => !strong.has(m)),
    strongModels: [...all.filter((m) => strong.has(m)), ...[...strong].filter((m) => !all.includes(m))],
  };
}

/**
 * The cheapest of `candidates` by list price (input + output per 1M tokens) at `at`; ties keep the first.
 * Unpriced models are skipped; throws when none has a price.
 */
export function cheapestModel(candidates: readonly string[], prices: PriceTable, at: Date): string {
  let best: { model: string; price: number } | undefined;
  for (const model of candidates) {
    const p = prices.priceAt(model, at);
    if (p === undefined) continue;
    const price = p.input.plus(p.output).toNumber();
    if (best === undefined || price < best.price) best = { model, price };
  }
  if (best === undefined) throw new Error(`no priced model among ${candidates.join(", ")}`);
  return best.model;
}

/** The all-weak reference model: the cheapest weak model of the LOW tier. */
export function allWeakModel(cfg: RoutingSection, mapping: SideMapping, prices: PriceTable, at: Date): string {
  const low = (cfg.routing.tiers.LOW ?? []).filter((m) => mapping.weakModels.includes(m));
  if (low.length === 0) throw new Error("routing.tiers.LOW has no weak model");
  return cheapestModel(low, prices, at);
}
