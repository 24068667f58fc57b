// Reference strategies on the same requests the gateway answered, computed offline from the recorded rows: every
// call priced with the configured models' list prices on real token counts (o200k: the prompt with OpenAI's chat
// framing, and the recorded answer text). Pure apart from the tokenizer.
import { computeCost, usage, type PriceTable } from "#libs/pricing/index.ts";
import { answerText, type ReplayCorrectness, type ReplayRow, type ReplaySide } from "#libs/simulator/replay.ts";
import { countTokens } from "#libs/tokens/count.ts";

export type CorrectnessOf = (rowId: string, side: ReplaySide) => ReplayCorrectness | undefined;

export const RESULT_NAMES = ["gateway", "all-strong", "all-weak", "random", "oracle", "learned-classifier"] as const;
export type ResultName = (typeof RESULT_NAMES)[number];
/** The gateway's line in a --learn run: the second half under the shipped policy, then under the learned one. */
export type LearnResultName = "before" | "after";

/** Quality of one answer on a 0..1 scale: correct 0/1 (GSM8K, MMLU), judge score / 10 (MT-Bench). */
export function qualityValue(c: ReplayCorrectness | undefined, rowId = "?"): number {
  if (c?.score !== undefined) return c.score / 10;
  if (c?.correct !== undefined) return c.correct ? 1 : 0;
  throw new Error(`no recorded correctness for ${rowId}`);
}

/** The user turns sent for a row: the prompt alone, or (MT-Bench turn 2) the earlier user turns then the prompt. */
export function userTurns(row: ReplayRow): string[] {
  return [...row.context, row.prompt];
}

const PER_MESSAGE = 4; // OpenAI chat framing per message
const REPLY_PRIMING = 3;

/** Prompt tokens of a chat of user messages, counted the way OpenAI bills them (o200k + framing). */
export function promptTokens(userTexts: readonly string[]): number {
  let n = REPLY_PRIMING;
  for (const t of userTexts) n += PER_MESSAGE + countTokens(t);
  return n;
}

/** List-price cost in USD of one call; throws for an unpriced model (a reference is never costed at $0). */
export function callCostUsd(prices: PriceTable, model: string, inputTokens: number, outputTokens: number, at: Date): number {
  const c = computeCost(prices, usage({ inputTokens, outputTokens }), model, at);
  if (c.unpriced) throw new Error(`model ${model} has no price`);
  return Number(c.costUsd);
}

/** One side's answer to one request: what it costs on its model, what it would cost on the reference model (the
 * ledger's baseline for that answer), and its quality. */
export interface SideOutcome {
  costUsd: number;
  baselineUsd: number;
  quality: number;
}

/** One request of the run as the references see it. */
export interface RefItem {
  rowId: string;
  weak: SideOutcome;
  strong: SideOutcome;
  /** The learned classifier alone sends it to the strong side (tier HIGH or AGENTIC). */
  learnedStrong: boolean;
}

export interface RefPricing {
  prices: PriceTable;
  /** The all-weak model (the cheapest weak model of the LOW tier). */
  weakModel: string;
  /** routing.reference_model: the all-strong model and the baseline's. */
  referenceModel: string;
  at: Date;
}

export function refItem(row: ReplayRow, correctnessOf: CorrectnessOf, p: RefPricing, learnedStrong: boolean): RefItem {
  const input = promptTokens(userTurns(row));
  const side = (s: ReplaySide, model: string): SideOutcome => {
    const output = countTokens(answerText(row, s));
    return {
      costUsd: callCostUsd(p.prices, model, input, output, p.at),
      baselineUsd: callCostUsd(p.prices, p.referenceModel, input, output, p.at),
      quality: qualityValue(correctnessOf(row.rowId, s), row.rowId),
    };
  };
  return { rowId: row.rowId, weak: side("weak", p.weakModel), strong: side("strong", p.referenceModel), learnedStrong };
}

export interface SavingsSplit {
  cache: number;
  routing: number;
  cascade: number;
}

/** One line of the report; `savings` and `split` are fractions of the baseline. */
export interface SavingsResult {
  name: ResultName | LearnResultName;
  cost_usd: number;
  baseline_usd: number;
  savings: number;
  savings_usd: number;
  split: SavingsSplit;
  quality: number;
  retained: number | null;
  strong_share: number;
  requests: number;
}

const ratio = (a: number, b: number): number => (b > 0 ? a / b : 0);

/** A result before `retained` is known (it needs the all-strong quality). */
export type PartialResult = Omit<SavingsResult, "retained">;

/** Expected totals when request i goes to the strong side with probability pStrong(i). */
export function mixResult(name: ResultName, items: readonly RefItem[], pStrong: (it: RefItem) => number): PartialResult {
  let cost = 0;
  let baseline = 0;
  let quality = 0;
  let strong = 0;
  for (const it of items) {
    const s = Math.min(1, Math.max(0, pStrong(it)));
    cost += s * it.strong.costUsd + (1 - s) * it.weak.costUsd;
    baseline += s * it.strong.baselineUsd + (1 - s) * it.weak.baselineUsd;
    quality += s * it.strong.quality + (1 - s) * it.weak.quality;
    strong += s;
  }
  const saved = baseline - cost;
  return {
    name,
    cost_usd: cost,
    baseline_usd: baseline,
    savings: ratio(saved, baseline),
    savings_usd: saved,
    // A router without a cache or a cascade: whatever it saves, it saves by routing.
    split: { cache: 0, routing: ratio(saved, baseline), cascade: 0 },
    quality: ratio(quality, items.length),
    strong_share: ratio(strong, items.length),
    requests: items.length,
  };
}

/**
 * Random routing at a given cost: the strong share s with expected cost = `costUsd` (clamped to [0, 1]), and its
 * expected quality. The fair "is the router better than chance?" point for a router whose weak calls cost more than
 * the all-weak model's (a cascade, a dearer cheap model).
 */
export function randomAtCost(items: readonly RefItem[], costUsd: number): { strong_share: number; cost_usd: number; quality: number } {
  const weak = items.reduce((a, it) => a + it.weak.costUsd, 0);
  const strong = items.reduce((a, it) => a + it.strong.costUsd, 0);
  const s = strong > weak ? Math.min(1, Math.max(0, (costUsd - weak) / (strong - weak))) : 0;
  const r = mixResult("random", items, () => s);
  return { strong_share: s, cost_usd: r.cost_usd, quality: r.quality };
}

/** all-strong, all-weak, random at the gateway's strong share (expected value), oracle, learned classifier. */
export function referenceResults(items: readonly RefItem[], gatewayStrongShare: number): PartialResult[] {
  return [
    mixResult("all-strong", items, () => 1),
    mixResult("all-weak", items, () => 0),
    mixResult("random", items, () => gatewayStrongShare),
    // Weak when the weak answer is right (MT-Bench: scores at least as well), else strong.
    mixResult("oracle", items, (it) => (it.weak.quality >= it.strong.quality && it.weak.quality > 0 ? 0 : 1)),
    mixResult("learned-classifier", items, (it) => (it.learnedStrong ? 1 : 0)),
  ];
}

/** What the ledger reported for the run's tenant (GET /v1/llmgw/spend, total). */
export interface LedgerTotal {
  requests: number;
  cost_usd: number;
  baseline_usd: number;
  savings_usd: number;
  savings: { cache_usd: number; routing_usd: number; cascade_usd: number; batch_usd: number };
}

/** The gateway's line: cost, baseline and split as the ledger recorded them; quality of the answers it served. */
export function gatewayResult(ledger: LedgerTotal, qualities: readonly number[], strongShare: number): PartialResult {
  const b = ledger.baseline_usd;
  return {
    name: "gateway",
    cost_usd: ledger.cost_usd,
    baseline_usd: b,
    savings: ratio(b - ledger.cost_usd, b),
    savings_usd: b - ledger.cost_usd,
    split: { cache: ratio(ledger.savings.cache_usd, b), routing: ratio(ledger.savings.routing_usd, b), cascade: ratio(ledger.savings.cascade_usd, b) },
    quality: ratio(
      qualities.reduce((a, q) => a + q, 0),
      qualities.length,
    ),
    strong_share: strongShare,
    requests: qualities.length,
  };
}

/** Adds retained = quality / all-strong quality (null when all-strong scores 0). */
export function withRetained(results: readonly PartialResult[]): SavingsResult[] {
  const top = results.find((r) => r.name === "all-strong")?.quality ?? 0;
  return results.map((r) => ({ ...r, retained: top > 0 ? r.quality / top : null }));
}
