// The edge's view of prices (libs/pricing): cost headers and worst-case budget reservations.
import { Decimal } from "decimal.js";
import type { Usage } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { computeCost, fromProtoUsage, worstCaseCost, type PriceTable } from "#libs/pricing/index.ts";
import type { Pricing } from "./deps.ts";

export function tablePricing(table: PriceTable): Pricing {
  return {
    cost(model, u: Usage, at, opts) {
      const r = computeCost(table, fromProtoUsage(u), model, at, { batch: opts?.batch === true });
      return r.unpriced ? { usd: "0", unpriced: true } : { usd: r.costUsd, unpriced: false };
    },
    worstCaseUsd(models, inputTokens, maxOutputTokens, at) {
      let worst = new Decimal(0);
      for (const m of models) {
        const c = worstCaseCost(table, m, inputTokens, maxOutputTokens, at);
        if (!c.unpriced) worst = Decimal.max(worst, c.costUsd);
      }
      return worst.toFixed();
    },
    canonical: (model) => table.canonical(model),
  };
}
