import { Decimal } from "decimal.js";
import type { RequestCompleted } from "#libs/gen/llmgw/events/v1/events_pb.ts";
import { costPico, costWithPrice, MONEY_SCALE } from "#libs/pricing/cost.ts";
import { isExactPico, picoToUsd } from "#libs/pricing/money.ts";
import type { ModelPrice, PriceTable } from "#libs/pricing/price-table.ts";
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

/**
 * The arithmetic a request's cost is computed in. Pico-USD integers (libs/pricing/money.ts) are exact
 * for every amount within ±$9,007 and build no Decimal; they give up (undefined) on a batch-discounted
 * call, whose rounding they do not do, or on an amount out of their range, and decimal.js takes over.
 */
interface Arith<T> {
  zero: T;
  /** One call's cost, or undefined when this arithmetic cannot state it exactly. */
  cost(u: UsageCounts, p: ModelPrice, batch: boolean): T | undefined;
  plus(a: T, b: T): T | undefined;
  minus(a: T, b: T): T | undefined;
  /** The amount at the ledger's scale, as a string. */
  text(a: T): string;
}

const picoArith: Arith<number> = {
  zero: 0,
  cost: (u, p, batch) => (batch ? undefined : costPico(u, p)),
  // Both operands are exact integers: the result is exact exactly when it is still a safe integer.
  plus: (a, b) => (isExactPico(a + b) ? a + b : undefined),
  minus: (a, b) => (isExactPico(a - b) ? a - b : undefined),
  text: picoToUsd,
};

const ZERO = new Decimal(0);
const decimalArith: Arith<Decimal> = {
  zero: ZERO,
  cost: (u, p, batch) => costWithPrice(u, p, { batch }),
  plus: (a, b) => a.plus(b),
  minus: (a, b) => a.minus(b),
  text: (d) => d.toDecimalPlaces(MONEY_SCALE).toFixed(),
};

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
  return costRequestIn(picoArith, ev, prices) ?? costRequestDecimal(ev, prices);
}

/**
 * costRequest in decimal.js only (it states every amount, so it never gives up): the fallback, and
 * the reference the integer form is tested against.
 */
export function costRequestDecimal(ev: RequestCompleted, prices: PriceTable): RequestCost {
  return costRequestIn(decimalArith, ev, prices) as RequestCost;
}

function costRequestIn<T>(A: Arith<T>, ev: RequestCompleted, prices: PriceTable): RequestCost | undefined {
  const requestId = ev.context?.requestId ?? "";
  const completedAt = priceTime(ev.completedAt, new Date());
  const unpricedModels = new Set<string>();
  let cost: T | undefined = A.zero;
  let undiscounted: T | undefined = A.zero;
  let unpriced = false;
  let billedUsage: UsageCounts = { ...ZERO_USAGE };
  const calls: CallCost[] = [];
  for (const c of ev.calls) {
    const kind = callKind(c.kind);
    const billed = kind !== "shadow";
    const usage = fromProtoUsage(c.usage);
    const batch = kind === "batch" || ev.batch;
    const at = priceTime(c.startedAt, completedAt);
    const price = prices.priceAt(c.model, at);
    let costUsd: string | null = null;
    if (price) {
      const d = A.cost(usage, price, batch);
      if (d === undefined) return undefined;
      costUsd = A.text(d);
      if (billed) {
        const full = batch ? A.cost(usage, price, false) : d;
        if (full === undefined) return undefined;
        cost = A.plus(cost, d);
        undiscounted = A.plus(undiscounted, full);
        if (cost === undefined || undiscounted === undefined) return undefined;
      }
    } else {
      unpricedModels.add(c.model);
      if (billed) unpriced = true;
    }
    if (billed) billedUsage = addUsage(billedUsage, usage);
    calls.push({ callId: c.callId, kind, billed, model: c.model, usage, costUsd, unpriced: !price });
  }

  const answer = fromProtoUsage(ev.answerUsage);
  let baseline: T | undefined = cost;
  if (ev.baselineModel) {
    const bp = prices.priceAt(ev.baselineModel, completedAt);
    if (bp) baseline = A.cost(answer, bp, false);
    else unpricedModels.add(ev.baselineModel);
  }
  if (baseline === undefined) return undefined;

  let cacheS: T | undefined = A.zero, routingS: T | undefined = A.zero, cascadeS: T | undefined = A.zero, batchS: T | undefined = A.zero;
  let savings: T | undefined = A.zero;
  if (!unpriced) {
    savings = A.minus(baseline, cost);
    if (savings === undefined) return undefined;
    if (ev.cacheOutcome.startsWith("hit")) {
      cacheS = savings;
    } else {
      batchS = A.minus(undiscounted, cost);
      if (batchS === undefined) return undefined;
      const rest = A.minus(savings, batchS);
      if (ev.cascaded) cascadeS = rest;
      else routingS = rest;
    }
  }
  if (cascadeS === undefined || routingS === undefined) return undefined;

  return {
    requestId,
    costUsd: A.text(cost),
    baselineUsd: A.text(baseline),
    savingsUsd: A.text(savings),
    cacheSavingsUsd: A.text(cacheS),
    routingSavingsUsd: A.text(routingS),
    cascadeSavingsUsd: A.text(cascadeS),
    batchSavingsUsd: A.text(batchS),
    unpriced,
    unpricedModels: [...unpricedModels],
    billedUsage,
    usageEstimated: billedUsage.estimated || answer.estimated,
    calls,
  };
}
