// Parsing of RouteLLM router-benchmark JSONL rows (GSM8K, MMLU, MT-Bench; lm-sys/RouteLLM) into a common shape.
// Quality is normalised to 0..1: correctness for GSM8K/MMLU, judge score / 10 for MT-Bench.
import type { ClassifyInput } from "./types.ts";

export interface BenchRow {
  id: string;
  /** Rows that must land on the same side of a train/eval split (MT-Bench: both turns of a question). */
  group: string;
  dataset: string;
  category: string;
  input: ClassifyInput;
  weakQuality: number;
  strongQuality: number;
  weakResponse?: string;
}

/**
 * need: strong beats weak (0/1). weakfail: weak answer wrong / poor. soft: mean of the two.
 * gain: strong - weak improvement, scaled so 3 judge points (0.3) or a binary flip = 1; = need on 0/1 data.
 */
export const TARGET_KINDS = ["need", "weakfail", "soft", "gain"] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

function obj(v: unknown): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("row is not an object");
  return v as Record<string, unknown>;
}

function str(o: Record<string, unknown>, k: string): string {
  const v = o[k];
  if (typeof v !== "string") throw new Error(`field ${k} is not a string`);
  return v;
}

function quality(o: Record<string, unknown>, which: "weak" | "strong"): number {
  const c = o[`${which}_correct`];
  if (typeof c === "boolean") return c ? 1 : 0;
  const s = o[`${which}_score`];
  if (typeof s === "number") return Math.max(0, Math.min(1, s / 10));
  throw new Error(`row has neither ${which}_correct nor ${which}_score`);
}

export function parseBenchRow(line: unknown): BenchRow {
  const o = obj(line);
  const id = str(o, "id");
  const dataset = typeof o.dataset === "string" ? o.dataset : "unknown";
  const category = typeof o.category === "string" ? o.category : "";
  let input: ClassifyInput;
  let group = id;
  if (Array.isArray(o.turns)) {
    const turn = typeof o.turn === "number" ? o.turn : o.turns.length;
    const turns = o.turns.slice(0, turn).filter((t): t is string => typeof t === "string");
    // Earlier assistant answers are not in the data; the prompt is the user turns up to this one.
    input = { messages: turns.map((content) => ({ role: "user" as const, content })), hasTools: false, jsonMode: false };
    group = id.replace(/-\d+$/, "");
  } else {
    input = { messages: [{ role: "user", content: str(o, "prompt") }], hasTools: false, jsonMode: false };
  }
  const row: BenchRow = {
    id,
    group,
    dataset,
    category,
    input,
    weakQuality: quality(o, "weak"),
    strongQuality: quality(o, "strong"),
  };
  if (typeof o.weak_response === "string") row.weakResponse = o.weak_response;
  return row;
}

/** Training target: 1 = the cheap model does not suffice. */
export function targetOf(r: BenchRow, kind: TargetKind): number {
  const need = r.strongQuality > r.weakQuality ? 1 : 0;
  const weakFail = r.weakQuality < 0.8 ? 1 : 0;
  if (kind === "need") return need;
  if (kind === "weakfail") return weakFail;
  if (kind === "gain") return Math.max(0, Math.min(1, (r.strongQuality - r.weakQuality) / 0.3));
  return 0.5 * need + 0.5 * weakFail;
}

/** Deterministic split by hashed group: same group → same side; ~`evalShare` of groups held out. */
export function isHeldOut(group: string, evalShare = 0.5): boolean {
  let h = 0x811c9dc5;
  for (let i = 0; i < group.length; i++) {
    h ^= group.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 13;
  h = Math.imul(h, 0x5bd1e995);
  h ^= h >>> 15;
  return (h >>> 0) / 4294967296 < evalShare;
}
