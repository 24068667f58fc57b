// Per-line fates shared by the OpenAI and Anthropic batch simulators. Deterministic, so a test (or a gateway
// under test) knows in advance which lines of a batch come back failed or expired.
import { hashString } from "./hash.ts";
import { isRecord, type JsonRecord } from "./json-util.ts";
import type { SimState } from "./state.ts";

/** A line whose custom_id or body contains this fails (OpenAI: error file, 500; Anthropic: "errored"). */
export const BATCH_FAIL_MARKER = "sim-fail";
/** A line whose custom_id or body contains this expires (OpenAI: batch_expired; Anthropic: "expired"). */
export const BATCH_EXPIRE_MARKER = "sim-expire";
/** OpenAI batch metadata key whose value overrides the simulator's batchDelayMs for that batch. */
export const BATCH_DELAY_METADATA = "sim_delay_ms";

export type LineFate = "run" | "fail" | "expire";

/** Whether the seeded failure share picks this custom_id (same answer for both providers' batch APIs). */
export function simBatchLineFails(customId: string, rate: number, seed = 42): boolean {
  if (rate <= 0) return false;
  return hashString(customId, seed) / 2 ** 53 < rate;
}

/** `text` is the line's JSON as sent (custom_id and body); markers anywhere in it count. */
export function lineFate(state: SimState, customId: string, text: string): LineFate {
  if (text.includes(BATCH_EXPIRE_MARKER)) return "expire";
  if (text.includes(BATCH_FAIL_MARKER)) return "fail";
  return simBatchLineFails(customId, state.batchFailRate, state.seed) ? "fail" : "run";
}

export const FAILED_LINE_MESSAGE = "The request failed while processing the batch (simulated).";

/**
 * "sim-batch-delay=MS" in any line delays the whole batch (the longest one wins): works through any caller
 * that passes lines on untouched, for Anthropic too, whose batches have no metadata.
 */
export const BATCH_DELAY_MARKER = "sim-batch-delay=";
const DELAY_MARKER_RE = /sim-batch-delay=(\d+)/g;

/** The longest "sim-batch-delay=MS" in the batch's text, or undefined. */
export function delayFromLines(text: string): number | undefined {
  if (!text.includes(BATCH_DELAY_MARKER)) return undefined;
  let max: number | undefined;
  for (const m of text.matchAll(DELAY_MARKER_RE)) max = Math.max(max ?? 0, Number(m[1]));
  return max;
}

/**
 * When a batch created now is ready: a delay marker in its lines, else its metadata's sim_delay_ms (OpenAI),
 * else the simulator's batchDelayMs.
 */
export function readyAt(state: SimState, metadata: unknown, linesText = ""): number {
  const raw = isRecord(metadata) ? (metadata as JsonRecord)[BATCH_DELAY_METADATA] : undefined;
  const override = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : Number.NaN;
  const delay = delayFromLines(linesText) ?? (Number.isFinite(override) && override >= 0 ? override : state.batchDelayMs);
  return Date.now() + delay;
}
