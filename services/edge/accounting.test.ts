import { create } from "@bufbuild/protobuf";
import { Decimal } from "decimal.js";
import { describe, expect, it } from "vitest";
import { UsageSchema } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { AttemptSchema, type Attempt } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { loadPriceTable, worstCaseCost } from "#libs/pricing/index.ts";
import { attemptsCost, sumUsage } from "./accounting.ts";
import type { Pricing } from "./deps.ts";
import { tablePricing } from "./pricing.ts";

describe("sumUsage", () => {
  it("adds every kind over the attempts that have usage and keeps the estimated flag", () => {
    const attempts = [
      create(AttemptSchema, { model: "a", usage: { inputTokens: 10n, cachedInputTokens: 5n, outputTokens: 2n } }),
      create(AttemptSchema, { model: "b" }),
      create(AttemptSchema, { model: "c", usage: { inputTokens: 1n, cacheWrite5mTokens: 3n, cacheWrite1hTokens: 4n, outputTokens: 7n, reasoningTokens: 6n, estimated: true } }),
    ];
    expect(sumUsage(attempts)).toEqual(
      create(UsageSchema, { inputTokens: 11n, cachedInputTokens: 5n, cacheWrite5mTokens: 3n, cacheWrite1hTokens: 4n, outputTokens: 9n, reasoningTokens: 6n, estimated: true }),
    );
  });
  it("is zero for no usage", () => {
    expect(sumUsage([])).toEqual(create(UsageSchema));
  });
});

describe("attemptsCost", () => {
  const pricing = tablePricing(loadPriceTable());
  const at = new Date("2025-10-15T12:00:00Z");
  const attempt = (model: string, inputTokens: bigint, outputTokens: bigint, status = "ok") =>
    create(AttemptSchema, { model, status, usage: { inputTokens, outputTokens } });
  /** The decimal.js sum attemptsCost made before its integer path. */
  const decimalSum = (attempts: Attempt[]): string =>
    attempts.reduce((s, a) => (a.usage && !a.status.startsWith("skipped") ? s.plus(pricing.cost(a.model, a.usage, at).usd) : s), new Decimal(0)).toFixed();

  it("sums the priced attempts exactly, skipped ones and unpriced ones adding nothing", () => {
    const attempts = [attempt("gpt-4o-mini", 1000n, 500n, "error"), attempt("gpt-4o", 1n, 1n, "skipped_open"), attempt("sim-unpriced", 9n, 9n), attempt("gpt-4.1", 1000n, 500n)];
    const c = attemptsCost(pricing, attempts, at);
    expect(c.usd.toFixed()).toBe("0.00645"); // 0.00045 + 0.006
    expect(c.unpriced).toBe(true);
    expect(attemptsCost(pricing, [], at).usd.toFixed()).toBe("0");
  });

  it("equals the decimal.js sum, also past the range of the integer path", () => {
    for (const tokens of [0n, 1n, 7n, 123_456n, 10n ** 9n, 10n ** 12n, 10n ** 15n]) {
      const attempts = [attempt("gpt-4o-mini", tokens, 3n), attempt("claude-opus-4-1", tokens, tokens)];
      expect(attemptsCost(pricing, attempts, at).usd.toFixed(), String(tokens)).toBe(decimalSum(attempts));
    }
  });

  it("takes any Pricing, even one whose amounts the integer path cannot hold", () => {
    const odd: Pricing = { cost: (m) => ({ usd: m === "a" ? "0.0000000000001" : "1e-3", unpriced: false }), worstCaseUsd: () => "0" };
    expect(attemptsCost(odd, [attempt("a", 1n, 1n), attempt("b", 1n, 1n)], at).usd.toFixed()).toBe("0.0010000000001");
  });
});

describe("tablePricing.worstCaseUsd", () => {
  const table = loadPriceTable();
  const pricing = tablePricing(table);
  const at = new Date("2025-10-15T12:00:00Z");
  it("is the dearest priced model's worst case, as decimal.js states it, unpriced ones left out", () => {
    const models = ["gpt-4o-mini", "claude-opus-4-1", "sim-unpriced", "gpt-4o"];
    for (const [prompt, max] of [[0, 0], [1, 1], [1000, 4096], [123_457, 16_384], [10 ** 9, 10 ** 9], [0.5, 3], [2 ** 60, 1]] as const) {
      let want = new Decimal(0);
      for (const m of models) {
        const c = worstCaseCost(table, m, prompt, max, at);
        if (!c.unpriced) want = Decimal.max(want, c.costUsd);
      }
      expect(pricing.worstCaseUsd(models, prompt, max, at), `${prompt} ${max}`).toBe(want.toFixed());
    }
    expect(pricing.worstCaseUsd(["gpt-4o"], 1000, 4096, at)).toBe("0.04346");
    expect(pricing.worstCaseUsd(["sim-unpriced"], 1000, 4096, at)).toBe("0");
  });
});
