// What the gateway knows about one answer, priced at the edge as the ledger will price it: cost,
// the baseline (the answer's usage at the baseline model) and the difference saved. It goes out as
// x-llmgw-* headers on JSON answers, and as the `llmgw` field of a stream's last chunk, since a
// stream's headers leave before its cost is known.
import { Decimal } from "decimal.js";
import { isExactPico, picoToUsd, subUsd, usdToPico } from "#libs/pricing/money.ts";
import type { Usage } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import type { GatewayTrailer } from "#libs/sdk/src/gateway-info.ts";
import { tierName } from "#libs/rpc/tier.ts";
import type { EdgeDeps } from "../deps.ts";
import type { ChatRecord } from "./record.ts";

/** The wire shape is the SDK's, so the two cannot drift: one definition of the `llmgw` field. */
export type GatewayInfo = GatewayTrailer;

/** An amount, in exact pico-USD when it has at most 12 decimals and fits (libs/pricing/money.ts). */
interface Amount {
  /** As Decimal#toFixed() writes it. */
  usd: string;
  pico: number | undefined;
}

function amount(usd: string): Amount {
  const pico = usdToPico(usd);
  return { usd: pico === undefined ? new Decimal(usd).toFixed() : picoToUsd(pico), pico };
}

/** baseline − cost, as Decimal#minus(...).toFixed() writes it; no arithmetic at all for equal texts. */
function savings(baseline: Amount, cost: Amount): string {
  if (baseline.usd === cost.usd) return "0";
  if (baseline.pico !== undefined && cost.pico !== undefined && isExactPico(baseline.pico - cost.pico)) return picoToUsd(baseline.pico - cost.pico);
  return subUsd(baseline.usd, cost.usd);
}

/** The model whose price is the baseline: the router's reference for a routed request, else the named model. */
export function baselineModelOf(deps: Pick<EdgeDeps, "config">, rec: Pick<ChatRecord, "alias" | "route" | "call">): string {
  return rec.alias ? rec.route?.referenceModel || deps.config.routing.reference_model : rec.call.body.model;
}

export function gatewayInfo(
  deps: Pick<EdgeDeps, "config" | "pricing">,
  rec: Pick<ChatRecord, "alias" | "route" | "call" | "cls" | "cacheOutcome">,
  o: { model: string; costUsd: string; unpriced: boolean; answerUsage?: Usage },
): GatewayInfo {
  const cost = amount(o.costUsd || "0");
  let baseline = cost;
  if (o.answerUsage) {
    const b = deps.pricing.cost(baselineModelOf(deps, rec), o.answerUsage, new Date());
    if (!b.unpriced) baseline = amount(b.usd);
  }
  return {
    request_id: rec.call.requestId,
    model: o.model,
    tier: tierName(rec.route?.tier || rec.cls.tier),
    cache: rec.cacheOutcome,
    cost_usd: cost.usd,
    baseline_usd: baseline.usd,
    // Unknown when a price is missing, as in the ledger (never a made-up number).
    savings_usd: o.unpriced ? "0" : savings(baseline, cost),
    unpriced: o.unpriced,
    route_reasons: [...(rec.route?.reasons ?? [])],
  };
}

/** The baseline and savings headers (the others are set where the answer is made). */
export function savingsHeaders(info: GatewayInfo): Record<string, string> {
  return { "x-llmgw-baseline-usd": info.baseline_usd, "x-llmgw-savings-usd": info.savings_usd };
}
