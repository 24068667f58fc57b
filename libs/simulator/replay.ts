// Replay mode: recorded benchmark answers served by the simulator, so a routing decision has a measurable quality
// consequence. Input is RouteLLM's router-benchmark JSONL (lm-sys/RouteLLM: each prompt with the weak and strong
// models' results), one row a line:
//   GSM8K   {"id","dataset","category","prompt","weak_correct","strong_correct","weak_response","strong_response"}
//   MMLU    {"id","dataset","category","prompt","weak_correct","strong_correct"}            (no answer text)
//   MT-Bench {"id","category","turn","turns","weak_score","strong_score",...}              (scores only)
// A prompt is recognised by the last user message's text (exact after trimming; indexed by hash). Models mapped to
// the weak side answer with the weak record, models mapped to the strong side with the strong one. Where a row has
// no text, the answer is synthesised: MMLU gets an option letter consistent with the correctness flags, MT-Bench a
// placeholder per side (its scores are looked up by the harness through correctnessOf). Nothing in an answer's
// text reveals its correctness. Pure apart from reading the files in loadReplay.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { hashString } from "./hash.ts";
import { isRecord, str, type JsonRecord } from "./json-util.ts";

export type ReplaySide = "weak" | "strong";
export type ChoiceLetter = "A" | "B" | "C" | "D";

interface RowBase {
  /** Unique key of the row: `${dataset}:${id}` (e.g. "gsm8k:6710fc83e60a", "mt_bench:mt81-2"). */
  rowId: string;
  id: string;
  dataset: string;
  category: string;
  /** The user message that identifies the row (MT-Bench: turns[turn - 1]), as recorded. */
  prompt: string;
  /** Earlier user turns (MT-Bench turn 2: [turn 1]); empty for single-turn rows. */
  context: readonly string[];
  /** File the row came from. */
  source: string;
}

/** A row with both models' recorded answers (GSM8K). */
export interface AnsweredRow extends RowBase {
  kind: "answered";
  weakCorrect: boolean;
  strongCorrect: boolean;
  weakResponse: string;
  strongResponse: string;
}

/** A multiple-choice row with correctness flags only (MMLU); letters are derived from the id and flags. */
export interface ChoiceRow extends RowBase {
  kind: "choice";
  weakCorrect: boolean;
  strongCorrect: boolean;
}

/** A row with judge scores only (MT-Bench, 1-10). */
export interface ScoredRow extends RowBase {
  kind: "scored";
  turn: number;
  weakScore: number;
  strongScore: number;
}

export type ReplayRow = AnsweredRow | ChoiceRow | ScoredRow;

/** Which served models play which recorded side. A model in neither list answers as the normal simulator. */
export interface ReplayMapping {
  weakModels: readonly string[];
  strongModels: readonly string[];
}

export interface ReplayAnswer {
  text: string;
  rowId: string;
  side: ReplaySide;
}

export interface ReplayCorrectness {
  correct?: boolean;
  score?: number;
}

export interface Replay {
  /** One row per rowId, in file order (a later row with a rowId already seen is skipped). */
  readonly rows: readonly ReplayRow[];
  /** Rows skipped because their rowId was already loaded (mmlu-dev.jsonl repeats 72 cross-listed questions). */
  readonly skipped: number;
  readonly mapping: ReplayMapping;
  /** The side a model plays, or undefined when it is not mapped. */
  sideOf(model: string): ReplaySide | undefined;
  /** The row a conversation corresponds to (whatever the model), or undefined for an unknown prompt. */
  match(messages: readonly unknown[]): ReplayRow | undefined;
  /** The answer `model` gives to the conversation, or undefined (unknown prompt or unmapped model). */
  answerFor(model: string, messages: readonly unknown[]): ReplayAnswer | undefined;
  row(rowId: string): ReplayRow | undefined;
  /** Correctness (GSM8K, MMLU) or judge score (MT-Bench) of a side's answer to a row; undefined for an unknown row. */
  correctnessOf(rowId: string, side: ReplaySide): ReplayCorrectness | undefined;
}

const LETTERS: readonly ChoiceLetter[] = ["A", "B", "C", "D"];

function letterAt(i: number): ChoiceLetter {
  return LETTERS[i] ?? "A";
}

/**
 * Option letters for a multiple-choice question: the right letter is fixed by a hash of the id; a right side gives
 * it, a wrong side a wrong letter fixed by a hash of id and side. When both sides are wrong, a hash of the id
 * decides whether they agree (so the same letter means "both right" or "both wrong", never one of each).
 */
export function choiceLetters(id: string, weakCorrect: boolean, strongCorrect: boolean): { right: ChoiceLetter; weak: ChoiceLetter; strong: ChoiceLetter } {
  const right = hashString(`replay:right:${id}`) % 4;
  const wrongs = [0, 1, 2, 3].filter((i) => i !== right);
  const wrong = (k: number): ChoiceLetter => letterAt(wrongs[k % 3] ?? 0);
  const weakK = hashString(`replay:weak:${id}`) % 3;
  const strongH = hashString(`replay:strong:${id}`);
  let strongK = strongH % 3;
  if (!weakCorrect && !strongCorrect) {
    const agree = hashString(`replay:agree:${id}`) % 2 === 0;
    strongK = agree ? weakK : weakK + 1 + (strongH % 2);
  }
  return {
    right: letterAt(right),
    weak: weakCorrect ? letterAt(right) : wrong(weakK),
    strong: strongCorrect ? letterAt(right) : wrong(strongK),
  };
}

/** The text a side answers to a row. Recorded answers are trimmed (the weak model's all open with a space). */
export function answerText(row: ReplayRow, side: ReplaySide): string {
  switch (row.kind) {
    case "answered":
      return (side === "weak" ? row.weakResponse : row.strongResponse).trim();
    case "choice": {
      const letters = choiceLetters(row.id, row.weakCorrect, row.strongCorrect);
      return `The answer is (${side === "weak" ? letters.weak : letters.strong}).`;
    }
    case "scored":
      return `[${side} answer to ${row.rowId}]`;
  }
}

export function rowCorrectness(row: ReplayRow, side: ReplaySide): ReplayCorrectness {
  if (row.kind === "scored") return { score: side === "weak" ? row.weakScore : row.strongScore };
  return { correct: side === "weak" ? row.weakCorrect : row.strongCorrect };
}

function fail(source: string, line: number, message: string): never {
  throw new Error(`replay ${source}:${line}: ${message}`);
}

function idOf(v: unknown): string | undefined {
  if (typeof v === "string" && v.length > 0) return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

function parseRow(r: JsonRecord, source: string, line: number): ReplayRow {
  const id = idOf(r["id"]) ?? fail(source, line, "missing id");
  const category = str(r["category"]) ?? "";
  const turns = r["turns"];
  if (Array.isArray(turns)) {
    const texts = turns.map((t, i) => str(t) ?? fail(source, line, `turns[${i}] is not a string`));
    if (texts.length === 0) fail(source, line, "turns is empty");
    const rawTurn = r["turn"];
    const turn = rawTurn === undefined ? texts.length : num(rawTurn);
    if (turn === undefined || !Number.isInteger(turn) || turn < 1 || turn > texts.length) fail(source, line, `turn must be an integer in 1..${texts.length}`);
    const weakScore = num(r["weak_score"]) ?? fail(source, line, "missing weak_score");
    const strongScore = num(r["strong_score"]) ?? fail(source, line, "missing strong_score");
    const dataset = str(r["dataset"]) ?? "mt_bench";
    return { kind: "scored", rowId: `${dataset}:${id}`, id, dataset, category, prompt: texts[turn - 1] ?? "", context: texts.slice(0, turn - 1), source, turn, weakScore, strongScore };
  }
  const prompt = str(r["prompt"]) ?? fail(source, line, "missing prompt (or turns)");
  const weakCorrect = r["weak_correct"];
  const strongCorrect = r["strong_correct"];
  if (typeof weakCorrect !== "boolean" || typeof strongCorrect !== "boolean") fail(source, line, "weak_correct and strong_correct must be booleans");
  const dataset = str(r["dataset"]) ?? basename(source).replace(/(-dev|-test)?\.jsonl$/, "");
  const base = { rowId: `${dataset}:${id}`, id, dataset, category, prompt, context: [], source, weakCorrect, strongCorrect };
  const weakResponse = str(r["weak_response"]);
  const strongResponse = str(r["strong_response"]);
  if (weakResponse !== undefined && strongResponse !== undefined) return { kind: "answered", ...base, weakResponse, strongResponse };
  if (weakResponse !== undefined || strongResponse !== undefined) fail(source, line, "weak_response and strong_response must both be present or both absent");
  return { kind: "choice", ...base };
}

/** Rows of one JSONL text; `source` names it in errors. Blank lines are ignored. */
export function parseReplayJsonl(text: string, source: string): ReplayRow[] {
  const rows: ReplayRow[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const l = (lines[i] ?? "").trim();
    if (l.length === 0) continue;
    let v: unknown;
    try {
      v = JSON.parse(l);
    } catch (err) {
      fail(source, i + 1, `invalid JSON (${err instanceof Error ? err.message : String(err)})`);
    }
    if (!isRecord(v)) fail(source, i + 1, "expected a JSON object");
    rows.push(parseRow(v, source, i + 1));
  }
  return rows;
}

/** Text of a message's content: a string, or the text parts (OpenAI and Anthropic shapes) joined by newlines. */
function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  let text = "";
  for (const part of content) {
    if (!isRecord(part)) continue;
    const t = str(part["text"]);
    if (t !== undefined && (part["type"] === undefined || part["type"] === "text")) text += text.length > 0 ? `\n${t}` : t;
  }
  return text;
}

/** Non-empty user texts of a conversation, in order (OpenAI or Anthropic message shapes). */
function userTexts(messages: readonly unknown[]): string[] {
  const out: string[] = [];
  for (const m of messages) {
    if (!isRecord(m) || m["role"] !== "user") continue;
    const t = contentText(m["content"]);
    if (t.length > 0) out.push(t);
  }
  return out;
}

function sameContext(row: ReplayRow, earlier: readonly string[]): boolean {
  if (row.context.length !== earlier.length) return false;
  return row.context.every((t, i) => t.trim() === earlier[i]?.trim());
}

/** Index over rows; throws when a model is mapped to both sides. */
export function buildReplay(allRows: readonly ReplayRow[], mapping: ReplayMapping): Replay {
  const sides = new Map<string, ReplaySide>();
  for (const m of mapping.weakModels) sides.set(m, "weak");
  for (const m of mapping.strongModels) {
    if (sides.get(m) === "weak") throw new Error(`replay: model ${m} is mapped to both the weak and the strong side`);
    sides.set(m, "strong");
  }
  const byId = new Map<string, ReplayRow>();
  const byPrompt = new Map<number, ReplayRow[]>();
  const rows: ReplayRow[] = [];
  let skipped = 0;
  for (const row of allRows) {
    if (byId.has(row.rowId)) {
      skipped++;
      continue;
    }
    byId.set(row.rowId, row);
    rows.push(row);
    const h = hashString(row.prompt.trim());
    const list = byPrompt.get(h);
    if (list === undefined) byPrompt.set(h, [row]);
    else list.push(row);
  }

  const match = (messages: readonly unknown[]): ReplayRow | undefined => {
    const texts = userTexts(messages);
    const last = texts[texts.length - 1];
    if (last === undefined) return undefined;
    const key = last.trim();
    const candidates = byPrompt.get(hashString(key))?.filter((r) => r.prompt.trim() === key);
    if (candidates === undefined || candidates.length === 0) return undefined;
    if (candidates.length === 1) return candidates[0];
    // The same last turn in several rows (possible in multi-turn data): prefer the one whose earlier turns match.
    const earlier = texts.slice(0, -1);
    return candidates.find((r) => sameContext(r, earlier)) ?? candidates[0];
  };

  return {
    rows,
    skipped,
    mapping: { weakModels: [...mapping.weakModels], strongModels: [...mapping.strongModels] },
    sideOf: (model) => sides.get(model),
    match,
    answerFor(model, messages) {
      const side = sides.get(model);
      if (side === undefined) return undefined;
      const row = match(messages);
      if (row === undefined) return undefined;
      return { text: answerText(row, side), rowId: row.rowId, side };
    },
    row: (rowId) => byId.get(rowId),
    correctnessOf(rowId, side) {
      const row = byId.get(rowId);
      return row === undefined ? undefined : rowCorrectness(row, side);
    },
  };
}

/** Reads and indexes replay files (synchronously; the three router files, ~10.7k rows, load in a few hundred milliseconds). */
export function loadReplay(files: readonly string[], mapping: ReplayMapping): Replay {
  const rows: ReplayRow[] = [];
  for (const f of files) for (const row of parseReplayJsonl(readFileSync(f, "utf8"), f)) rows.push(row);
  return buildReplay(rows, mapping);
}

export function isReplay(v: unknown): v is Replay {
  return isRecord(v) && typeof v["answerFor"] === "function" && Array.isArray(v["rows"]);
}
