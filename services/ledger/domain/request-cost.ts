import { Decimal } from "decimal.js";
import type { RequestCompleted } from "#libs/gen/llmgw/events/v1/events_pb.ts";
import { costWithPrice, MONEY_SCALE } from "#libs/pricing/cost.ts";
import type { PriceTable } from "#libs/pricing/price-table.ts";
import { addUsage, fromProtoUsage, ZERO_USAGE, type UsageCounts } from "#libs/pricing/usage-types.ts";

export const CALL_KINDS = ["primary", "retry", "fallback", "cascade_first", "escalation", "shadow", "batch"] as const;
export type CallKind = (typeof CALL_KINDS)[number];

export interface CallCost {
  callId: string;
  kind: CallKind;
  /** Shadow calls are recorded but never billed to the request. */
  billed: boolean;
  model: string;
  usage: UsageCounts;
  /** Exact decimal string, or null when the model has no price (unknown, not 0). */
  costUsd: string | null;
  unpriced: boolean;
}

export interface RequestCost {
  requestId: string;
  /** Sum of the billed calls that have a price. */
  costUsd: string;
  baselineUsd: string;
  savingsUsd: string;
  cacheSavingsUsd: string;
  routingSavingsUsd: string;
  cascadeSavingsUsd: string;
  batchSavingsUsd: string;
  /** A billed call had no price: cost is a lower bound and savings are not claimed (all 0). */
  unpriced: boolean;
  /** Models without a price met in this request (billed calls, shadow calls or the baseline). */
  unpricedModels: string[];
  billedUsage: UsageCounts;
  usageEstimated: boolean;
  calls: CallCost[];
}

const ZERO = new Decimal(0);
const money = (d: Decimal): string => d.toDecimalPlaces(MONEY_SCALE).toFixed();

function callKind(kind: string): CallKind {
  return (CALL_KINDS as readonly string[]).includes(kind) ? (kind as CallKind) : "primary";
}

function priceTime(iso: string, fallback: Date): Date {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? fallback : d;
}

/**
 * Cost, baseline and savings of one request (pure). Cost = sum of its billed calls (a cascaded
 * request pays both calls). Baseline = the answer's usage priced at the baseline model.
 * Savings = baseline - cost, attributed to exactly one cause except the batch discount:
 *   cache hit → cache; else batch discount → batch, rest → cascade if cascaded, else routing.
 * Savings may be negative (an escalation paid twice, a pricier fallback): that is measured too.
 */
export function costRequest(ev: RequestCompleted, prices: PriceTable): RequestCost {
  const requestId = ev.context?.requestId ?? "";
  const completedAt = priceTime(ev.completedAt, new Date());
  const unpricedModels = new Set<string>();
  let cost = ZERO;
  let undiscounted = ZERO;
  let unpriced = false;
  let billedUsage: UsageCounts = { ...ZERO_USAGE };
  const calls: CallCost[] = ev.calls.map((c) => {
    const kind = callKind(c.kind);
    const billed = kind !== "shadow";
    const usage = fromProtoUsage(c.usage);
    const batch = kind === "batch" || ev.batch;
    const at = priceTime(c.startedAt, completedAt);
    const price = prices.priceAt(c.model, at);
    let costUsd: string | null = null;
    if (price) {
      const d = costWithPrice(usage, price, { batch });
      costUsd = d.toFixed();
      if (billed) {
        cost = cost.plus(d);
        undiscounted = undiscounted.plus(batch ? costWithPrice(usage, price) : d);
      }
    } else {
      unpricedModels.add(c.model);
      if (billed) unpriced = true;
    }
    if (billed) billedUsage = addUsage(billedUsage, usage);
    return { callId: c.callId, kind, billed, model: c.model, usage, costUsd, unpriced: !price };
  });

  const answer = fromProtoUsage(ev.answerUsage);
  let baseline = cost;
  if (ev.baselineModel) {
    const bp = prices.priceAt(ev.baselineModel, completedAt);
    if (bp) baseline = costWithPrice(answer, bp);
    else unpricedModels.add(ev.baselineModel);
  }

  let cacheS = ZERO, routingS = ZERO, cascadeS = ZERO, batchS = ZERO;
  let savings = ZERO;
  if (!unpriced) {
    savings = baseline.minus(cost);
    if (ev.cacheOutcome.startsWith("hit")) {
      cacheS = savings;
    } else {
      batchS = undiscounted.minus(cost);
      const rest = savings.minus(batchS);
      if (ev.cascaded) cascadeS = rest;
      else routingS = rest;
    }
  }

  return {
    requestId,
    costUsd: money(cost),
    baselineUsd: money(baseline),
    savingsUsd: money(savings),
    cacheSavingsUsd: money(cacheS),
    routingSavingsUsd: money(routingS),
    cascadeSavingsUsd: money(cascadeS),
    batchSavingsUsd: money(batchS),
    unpriced,
    unpricedModels: [...unpricedModels],
    billedUsage,
    usageEstimated: billedUsage.estimated || answer.estimated,
    calls,
  };
}
