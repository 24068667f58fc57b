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

/** When a batch created now is ready: the per-batch override (ms, from metadata) or the simulator's delay. */
export function readyAt(state: SimState, metadata: unknown): number {
  const raw = isRecord(metadata) ? (metadata as JsonRecord)[BATCH_DELAY_METADATA] : undefined;
  const override = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : Number.NaN;
  const delay = Number.isFinite(override) && override >= 0 ? override : state.batchDelayMs;
  return Date.now() + delay;
}
