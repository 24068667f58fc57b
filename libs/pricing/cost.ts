import { Decimal } from "decimal.js";
import { isTokenCount, picoToUsd } from "./money.ts";
import { picoRates, type PriceTable, type ModelPrice } from "./price-table.ts";
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

/**
 * costWithPrice without a batch discount, in pico-USD (an integer), from the table's integer rates:
 * exactly the same amount, with no rounding to do since a rate of at most 6 decimals per 1M tokens is
 * a whole number of pico-USD per token. Undefined when that does not hold (a price not from a loaded
 * table, a rate with more decimals, a fractional or negative count, a sum past 2^53): use costWithPrice.
 */
export function costPico(u: UsageCounts, p: ModelPrice): number | undefined {
  const r = picoRates(p);
  if (!r) return undefined;
  if (!(isTokenCount(u.inputTokens) && isTokenCount(u.cachedInputTokens) && isTokenCount(u.cacheWrite5mTokens) &&
    isTokenCount(u.cacheWrite1hTokens) && isTokenCount(u.outputTokens) && isTokenCount(u.reasoningTokens))) return undefined;
  const reasoning = Math.min(u.reasoningTokens, u.outputTokens);
  const n = r.input * u.inputTokens + r.cachedInput * u.cachedInputTokens + r.cacheWrite5m * u.cacheWrite5mTokens +
    r.cacheWrite1h * u.cacheWrite1hTokens + r.output * (u.outputTokens - reasoning) + r.reasoning * reasoning;
  // Every term is a non-negative integer: a sum that is still safe was exact all the way
  // (a term or partial sum past 2^53 can only round to 2^53 or more).
  return n <= Number.MAX_SAFE_INTEGER ? n : undefined;
}

/** worstCaseCost of one price in pico-USD; undefined when not exact as a double (use worstCaseCost). */
export function worstCasePico(p: ModelPrice, promptTokens: number, maxOutputTokens: number): number | undefined {
  const r = picoRates(p);
  if (!r || !isTokenCount(promptTokens) || !isTokenCount(maxOutputTokens)) return undefined;
  const n = r.input * promptTokens + Math.max(r.output, r.reasoning) * maxOutputTokens;
  return n <= Number.MAX_SAFE_INTEGER ? n : undefined;
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
  const pico = opts.batch ? undefined : costPico(u, price);
  if (pico !== undefined) return { unpriced: false, costUsd: picoToUsd(pico), price };
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
  const pico = worstCasePico(price, promptTokens, maxOutputTokens);
  if (pico !== undefined) return { unpriced: false, costUsd: picoToUsd(pico), price };
  const outRate = Decimal.max(price.output, price.reasoning);
  const d = price.input.mul(promptTokens).plus(outRate.mul(maxOutputTokens)).div(PER).toDecimalPlaces(MONEY_SCALE, Decimal.ROUND_UP);
  return { unpriced: false, costUsd: d.toFixed(), price };
}
