import { describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import { computeCost, worstCaseCost } from "./cost.ts";
import { PriceTable, loadPriceTable } from "./price-table.ts";
import { usage, type UsageCounts } from "./usage-types.ts";
import { recordUnpriced, unpricedCounter } from "./metrics.ts";

const table = loadPriceTable();
const AT = new Date("2025-10-15T12:00:00Z");

// Expected values are hand arithmetic from list prices per 1M tokens.
const cases: Array<{ name: string; model: string; u: UsageCounts; batch?: boolean; at?: Date; want: string }> = [
  { name: "gpt-4o-mini plain", model: "gpt-4o-mini", u: usage({ inputTokens: 1000, outputTokens: 500 }),
    want: "0.00045" }, // 1000*0.15 + 500*0.60 = 450 /1e6
  { name: "OpenAI cached tokens at cached rate", model: "gpt-4o", u: usage({ inputTokens: 200, cachedInputTokens: 1800, outputTokens: 100 }),
    want: "0.00375" }, // 200*2.5 + 1800*1.25 + 100*10 = 500+2250+1000 = 3750
  { name: "Anthropic 5m cache write = 1.25x input, once", model: "claude-sonnet-4-5",
    u: usage({ inputTokens: 10, cacheWrite5mTokens: 2000, outputTokens: 100 }),
    want: "0.00903" }, // 10*3 + 2000*3.75 + 100*15 = 30+7500+1500 = 9030
  { name: "Anthropic 1h cache write = 2x input", model: "claude-sonnet-4-5",
    u: usage({ inputTokens: 10, cacheWrite1hTokens: 2000, cachedInputTokens: 1000, outputTokens: 100 }),
    want: "0.01383" }, // 30 + 2000*6 + 1000*0.3 + 1500 = 30+12000+300+1500 = 13830
  { name: "reasoning tokens not double counted", model: "o3-mini",
    u: usage({ inputTokens: 1000, outputTokens: 3000, reasoningTokens: 2500 }),
    want: "0.0143" }, // 1000*1.1 + 3000*4.4 = 1100+13200 = 14300
  { name: "batch discount halves", model: "gpt-4.1", u: usage({ inputTokens: 1_000_000, outputTokens: 1_000_000 }), batch: true,
    want: "5" }, // (2 + 8) * 0.5
  { name: "effective dates: old gpt-4o price", model: "gpt-4o", u: usage({ inputTokens: 1000, outputTokens: 1000 }),
    at: new Date("2024-06-01T00:00:00Z"), want: "0.02" }, // 5 + 15 = 20 per 1M → 1000 each
  { name: "effective dates: new gpt-4o price", model: "gpt-4o", u: usage({ inputTokens: 1000, outputTokens: 1000 }),
    want: "0.0125" },
  { name: "alias priced like its model", model: "claude-3-5-haiku-20241022", u: usage({ inputTokens: 1000, outputTokens: 1000 }),
    want: "0.0048" },
  { name: "opus 4.1", model: "claude-opus-4-1", u: usage({ inputTokens: 1, outputTokens: 1 }), want: "0.00009" },
  { name: "simulator small-8k", model: "small-8k", u: usage({ inputTokens: 100, outputTokens: 100 }), want: "0.000025" },
  { name: "zero usage costs exactly 0", model: "gpt-4.1-nano", u: usage({}), want: "0" },
];

describe("computeCost", () => {
  it.each(cases)("$name", ({ model, u, batch, at, want }) => {
    const r = computeCost(table, u, model, at ?? AT, { batch: batch ?? false });
    expect(r.unpriced).toBe(false);
    expect(r.costUsd).toBe(want);
  });

  it("unknown model is unpriced, never 0", () => {
    const r = computeCost(table, usage({ inputTokens: 10 }), "mystery-model", AT);
    expect(r).toEqual({ unpriced: true, costUsd: null });
  });

  it("a model before its first effective date is unpriced", () => {
    const r = computeCost(table, usage({ inputTokens: 10 }), "claude-sonnet-4-5", new Date("2024-01-01T00:00:00Z"));
    expect(r.unpriced).toBe(true);
  });

  it("exact decimals: many small calls sum exactly", () => {
    const one = computeCost(table, usage({ inputTokens: 1 }), "gpt-4o-mini", AT);
    expect(one.costUsd).toBe("0.00000015");
  });

  it("has every model the gateway uses", () => {
    for (const m of ["gpt-4o-mini", "gpt-4o", "gpt-4.1-nano", "gpt-4.1-mini", "gpt-4.1", "o3-mini",
      "claude-3-5-haiku-latest", "claude-sonnet-4-5", "claude-opus-4-1", "small-8k"]) {
      expect(table.priceAt(m, new Date()), m).toBeDefined();
    }
  });

  it("unpriced counter increments", async () => {
    const reg = new Registry();
    const warnings: object[] = [];
    recordUnpriced("mystery", { warn: (o) => warnings.push(o) }, reg);
    recordUnpriced("mystery", undefined, reg);
    const v = await unpricedCounter(reg).get();
    expect(v.values[0]?.value).toBe(2);
    expect(warnings).toHaveLength(1);
  });
});

describe("price table validation", () => {
  it("defaults: cache writes from input, reasoning from output", () => {
    const t = PriceTable.fromObject({ models: { m: { provider: "x", versions: [{ effective_from: "2024-01-01", input: 2, output: 8 }] } } });
    const p = t.priceAt("m", AT);
    expect(p?.cacheWrite5m.toString()).toBe("2.5");
    expect(p?.cacheWrite1h.toString()).toBe("4");
    expect(p?.reasoning.toString()).toBe("8");
    expect(p?.cachedInput.toString()).toBe("2");
  });
  it("fails fast naming the bad key", () => {
    expect(() => PriceTable.fromObject({ models: { m: { provider: "x", versions: [{ effective_from: "2024-01-01", input: -1, output: 8 }] } } }))
      .toThrow(/models\.m\.versions\.0\.input/);
    expect(() => PriceTable.fromObject({ models: { m: { provider: "x", versions: [{ effective_from: "nope", input: 1, output: 8 }] } } }))
      .toThrow(/effective_from/);
  });
});

describe("worstCaseCost", () => {
  it("prices the prompt at full input and max_tokens at the output rate", () => {
    // 1000*2.5 + 4096*10 = 43460 per 1M
    expect(worstCaseCost(table, "gpt-4o", 1000, 4096, AT).costUsd).toBe("0.04346");
    expect(worstCaseCost(table, "nope", 1, 1, AT).unpriced).toBe(true);
  });
});
