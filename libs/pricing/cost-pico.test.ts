// The integer path (pico-USD) against the decimal.js one it replaces on the hot path: the same strings.
import { Decimal } from "decimal.js";
import { describe, expect, it } from "vitest";
import { computeCost, costPico, costWithPrice, MONEY_SCALE, worstCaseCost, worstCasePico } from "./cost.ts";
import { loadPriceTable, picoRates, PriceTable, type ModelPrice } from "./price-table.ts";
import { usage, type UsageCounts } from "./usage-types.ts";
import { createRng } from "#libs/random/rng.ts";


/** Token counts from 0 to past the range where the integer path must give up. */
function count(r: () => number): number {
  const x = r();
  if (x < 0.2) return 0;
  if (x < 0.9) return Math.floor(r() * 10 ** (1 + Math.floor(r() * 7)));
  return Math.floor(r() * 10 ** (8 + Math.floor(r() * 8)));
}

function randomUsage(r: () => number): UsageCounts {
  const outputTokens = count(r);
  return usage({
    inputTokens: count(r),
    cachedInputTokens: count(r),
    cacheWrite5mTokens: r() < 0.5 ? 0 : count(r),
    cacheWrite1hTokens: r() < 0.5 ? 0 : count(r),
    outputTokens,
    reasoningTokens: r() < 0.5 ? 0 : r() < 0.5 ? count(r) : Math.floor(outputTokens * r()),
  });
}

const table = loadPriceTable();
const AT = new Date("2025-10-15T12:00:00Z");
const prices: ModelPrice[] = [];
for (const m of table.models()) for (const at of [new Date("2024-06-01T00:00:00Z"), AT]) { const p = table.priceAt(m, at); if (p) prices.push(p); }

/** The decimal.js worst case, as worstCaseCost computed it before the integer path. */
const worstDecimal = (p: ModelPrice, prompt: number, maxOut: number): string =>
  p.input.mul(prompt).plus(Decimal.max(p.output, p.reasoning).mul(maxOut)).div(1_000_000).toDecimalPlaces(MONEY_SCALE, Decimal.ROUND_UP).toFixed();

describe("cost in pico-USD", () => {
  it("every price of the table has integer rates", () => {
    for (const p of prices) expect(picoRates(p), p.model).toBeDefined();
  });

  it("computeCost and worstCaseCost give decimal.js's strings for random usage of every price", () => {
    const r = createRng(1);
    let fast = 0;
    for (let i = 0; i < 20_000; i++) {
      const p = prices[i % prices.length] as ModelPrice;
      const u = randomUsage(r);
      if (costPico(u, p) !== undefined) fast++;
      const at = p.effectiveFrom;
      expect(computeCost(table, u, p.model, at).costUsd, JSON.stringify(u)).toBe(costWithPrice(u, p).toFixed());
      expect(computeCost(table, u, p.model, at, { batch: true }).costUsd).toBe(costWithPrice(u, p, { batch: true }).toFixed());
      const prompt = count(r);
      const maxOut = count(r);
      expect(worstCaseCost(table, p.model, prompt, maxOut, at).costUsd, `${prompt} ${maxOut}`).toBe(worstDecimal(p, prompt, maxOut));
    }
    // Most draws took the integer path, and some were too large for it: both sides were tested.
    expect(fast).toBeGreaterThan(10_000);
    expect(fast).toBeLessThan(20_000);
  });

  it("gives up, to decimal.js, on fractional, negative or huge counts", () => {
    const p = table.priceAt("gpt-4o-mini", AT) as ModelPrice;
    for (const u of [usage({ inputTokens: 1.5 }), usage({ inputTokens: 1 / 3 }), usage({ outputTokens: -3 }), usage({ inputTokens: NaN }), usage({ inputTokens: 2 ** 60 })]) {
      expect(costPico(u, p), JSON.stringify(u)).toBeUndefined();
    }
    expect(computeCost(table, usage({ inputTokens: 1.5 }), "gpt-4o-mini", AT).costUsd).toBe("0.000000225");
    expect(computeCost(table, usage({ inputTokens: 1e11 }), "gpt-4o-mini", AT).costUsd).toBe("15000");
    expect(worstCasePico(p, 0.5, 1)).toBeUndefined();
  });

  it("a rate with more than 6 decimals, or a price copied out of the table, is costed by decimal.js", () => {
    const fine = PriceTable.fromObject({ models: { m: { provider: "x", versions: [{ effective_from: "2024-01-01", input: "0.0000001", output: 1 }] } } });
    const p = fine.priceAt("m", AT) as ModelPrice;
    expect(picoRates(p)).toBeUndefined();
    // 15 × 1e-13 USD = 1.5e-12, to the even pico: 2e-12; 5e-13 to the even pico: 0.
    expect(computeCost(fine, usage({ inputTokens: 15 }), "m", AT).costUsd).toBe("0.000000000002");
    expect(computeCost(fine, usage({ inputTokens: 5 }), "m", AT).costUsd).toBe("0");
    expect(computeCost(fine, usage({ inputTokens: 5_000_000, outputTokens: 1 }), "m", AT).costUsd).toBe("0.0000015");
    expect(worstCaseCost(fine, "m", 3, 0, AT).costUsd).toBe("0.000000000001"); // 3e-13 rounded up
    const copy = { ...(table.priceAt("gpt-4o", AT) as ModelPrice), input: new Decimal(100) };
    expect(picoRates(copy)).toBeUndefined();
    expect(costPico(usage({ inputTokens: 1 }), copy)).toBeUndefined();
  });
});
