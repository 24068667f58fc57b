// The edge's view of prices (libs/pricing): cost headers and worst-case budget reservations.
import { Decimal } from "decimal.js";
import type { Usage } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { computeCost, fromProtoUsage, picoToUsd, worstCaseCost, worstCasePico, type PriceTable } from "#libs/pricing/index.ts";
import type { Pricing } from "./deps.ts";

export function tablePricing(table: PriceTable): Pricing {
  /** The decimal.js form, for an amount the integer path cannot hold exactly. */
  const worstCaseDecimal = (models: readonly string[], inputTokens: number, maxOutputTokens: number, at: Date): string => {
    let worst = new Decimal(0);
    for (const m of models) {
      const c = worstCaseCost(table, m, inputTokens, maxOutputTokens, at);
      if (!c.unpriced) worst = Decimal.max(worst, c.costUsd);
    }
    return worst.toFixed();
  };
  return {
    cost(model, u: Usage, at, opts) {
      const r = computeCost(table, fromProtoUsage(u), model, at, { batch: opts?.batch === true });
      return r.unpriced ? { usd: "0", unpriced: true } : { usd: r.costUsd, unpriced: false };
    },
    worstCaseUsd(models, inputTokens, maxOutputTokens, at) {
      // Pico-USD integers (libs/pricing/money.ts): the same amounts without a Decimal per model.
      let worst = 0;
      for (const m of models) {
        const price = table.priceAt(m, at);
        if (!price) continue;
        const n = worstCasePico(price, inputTokens, maxOutputTokens);
        if (n === undefined) return worstCaseDecimal(models, inputTokens, maxOutputTokens, at);
        if (n > worst) worst = n;
      }
      return picoToUsd(worst);
    },
    canonical: (model) => table.canonical(model),
  };
}
