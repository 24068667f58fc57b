import { Decimal } from "decimal.js";
import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { UsageSchema } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import type { EdgeDeps, Pricing } from "../deps.ts";
import { gatewayInfo } from "./gateway-info.ts";
import type { ChatRecord } from "./record.ts";

/** The amounts as decimal.js wrote them before the integer path: the reference. */
function reference(costUsd: string, baselineUsd: string | undefined, unpriced: boolean) {
  const cost = new Decimal(costUsd || "0");
  const baseline = baselineUsd === undefined ? cost : new Decimal(baselineUsd);
  return { cost_usd: cost.toFixed(), baseline_usd: baseline.toFixed(), savings_usd: unpriced ? "0" : baseline.minus(cost).toFixed() };
}

function depsPricing(usd: string | undefined): Pick<EdgeDeps, "config" | "pricing"> {
  const pricing: Pricing = {
    cost: () => (usd === undefined ? { usd: "0", unpriced: true } : { usd, unpriced: false }),
    worstCaseUsd: () => "0",
  };
  return { pricing, config: { routing: { reference_model: "gpt-4o" } } as unknown as EdgeDeps["config"] };
}

const rec = { alias: false, call: { requestId: "r1", body: { model: "gpt-4o-mini" } }, cls: { tier: 2 }, cacheOutcome: "miss" } as unknown as ChatRecord;

describe("gatewayInfo", () => {
  it("writes cost, baseline and savings exactly as decimal.js does", () => {
    const amounts = ["0", "", "0.0000315", "0.00001575", "1.5", "1.50", "00.1", "12", "0.000000000001", "0.0000000000001", "1e-7", "9007.199254740991", "9007.199254740992", "123456789.123456789", "-0"];
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 500; i++) amounts.push(`${Math.floor(rnd() * 100)}.${String(Math.floor(rnd() * 1e12)).padStart(12, "0")}`.replace(/0+$/, ""));
    const usage = create(UsageSchema, { inputTokens: 10n, outputTokens: 5n });
    for (let i = 0; i < amounts.length; i++) {
      const cost = amounts[i]!;
      const base = amounts[(i * 7 + 3) % amounts.length]!;
      for (const unpriced of [false, true]) {
        for (const baseline of [base || "0", cost || "0", undefined]) {
          const info = gatewayInfo(depsPricing(baseline), rec, { model: "gpt-4o-mini", costUsd: cost, unpriced, answerUsage: usage });
          expect({ cost_usd: info.cost_usd, baseline_usd: info.baseline_usd, savings_usd: info.savings_usd }).toEqual(reference(cost, baseline, unpriced));
        }
        const noUsage = gatewayInfo(depsPricing(base || "0"), rec, { model: "gpt-4o-mini", costUsd: cost, unpriced });
        expect({ cost_usd: noUsage.cost_usd, baseline_usd: noUsage.baseline_usd, savings_usd: noUsage.savings_usd }).toEqual(reference(cost, undefined, unpriced));
      }
    }
  });
});
