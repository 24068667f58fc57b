import { Decimal } from "decimal.js";
import type { PriceTable, ModelPrice } from "./price-table.ts";
import type { UsageCounts } from "./usage-types.ts";

const PER = new Decimal(1_000_000);
/** Stored scale of money (NUMERIC(30,12)); every cost is exact at this scale with real prices. */
export const MONEY_SCALE = 12;

export interface CostOptions {
  batch?: boolean;
}

export type CostResult =
  | { unpriced: false; costUsd: string; price: ModelPrice }
  | { unpriced: true; costUsd: null };

/**
 * Cost of one call from disjoint usage. Reasoning tokens are a subset of output tokens:
 * they are billed once, at the reasoning rate, and the rest of the output at the output rate.
 */
export function costWithPrice(u: UsageCounts, p: ModelPrice, opts: CostOptions = {}): Decimal {
  const reasoning = Math.min(u.reasoningTokens, u.outputTokens);
  const plainOutput = u.outputTokens - reasoning;
  let perMillion = p.input
    .mul(u.inputTokens)
    .plus(p.cachedInput.mul(u.cachedInputTokens))
    .plus(p.cacheWrite5m.mul(u.cacheWrite5mTokens))
    .plus(p.cacheWrite1h.mul(u.cacheWrite1hTokens))
    .plus(p.output.mul(plainOutput))
    .plus(p.reasoning.mul(reasoning));
  if (opts.batch) perMillion = perMillion.mul(new Decimal(1).minus(p.batchDiscount));
  return perMillion.div(PER).toDecimalPlaces(MONEY_SCALE, Decimal.ROUND_HALF_EVEN);
}

/** computeCost(usage, model, at, {batch}) → exact decimal string, or unpriced (never a silent 0). */
export function computeCost(
  table: PriceTable,
  u: UsageCounts,
  model: string,
  at: Date,
  opts: CostOptions = {},
): CostResult {
  const price = table.priceAt(model, at);
  if (!price) return { unpriced: true, costUsd: null };
  return { unpriced: false, costUsd: costWithPrice(u, price, opts).toFixed(), price };
}

/**
 * Worst case of a call for budget admission: every prompt token at the full input rate (no cache
 * discount assumed) and max_tokens of output at the dearer of the output and reasoning rates.
 */
export function worstCaseCost(
  table: PriceTable,
  model: string,
  promptTokens: number,
  maxOutputTokens: number,
  at: Date,
): CostResult {
  const price = table.priceAt(model, at);
  if (!price) return { unpriced: true, costUsd: null };
  const outRate = Decimal.max(price.output, price.reasoning);
  const d = price.input.mul(promptTokens).plus(outRate.mul(maxOutputTokens)).div(PER).toDecimalPlaces(MONEY_SCALE, Decimal.ROUND_UP);
  return { unpriced: false, costUsd: d.toFixed(), price };
}
