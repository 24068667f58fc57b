// Deterministic answer text. Answers are built from words that are single o200k tokens, so an answer of N
// pieces is exactly N completion tokens without tokenizing it on the hot path.
import { createRng } from "#libs/random/rng.ts";
import { hashString } from "./hash.ts";
import { getEncoder, tokenPieces } from "./tokens.ts";

/** Opening of every low-quality answer (weak model on a hard prompt); evaluators and tests can look for it. */
export const SIM_HEDGE_PHRASE = "I'm not entirely sure about this, but it might be that";
export const SIM_REFUSAL = "I'm sorry, I can't help with that.";

// Word classes for short grammatical sentences. Each entry must be a single o200k token (checked at start-up).
const STARTERS = ["The", "This", "Each", "Every", "Our", "Your", "One", "That"];
const ADJECTIVES = "simple clear direct careful quick strong small large main key best good useful common general specific first final next new short long high low fast slow safe exact full total cheap".split(" ");
const NOUNS = "answer result value system model data process method approach cost price budget request response cache query user team project plan goal step detail number rate level point part case example reason idea router gateway token prompt limit".split(" ");
const VERBS = "shows uses needs gives makes takes keeps finds builds runs checks moves sets holds returns improves reduces increases changes".split(" ");
const INTRANSITIVE = "works matters helps changes improves holds stays fits".split(" ");
const PREPOSITIONS = "of to in for with on from by at".split(" ");
const DETERMINERS = "the each every this our".split(" ");

type Slot = "S" | "A" | "N" | "V" | "I" | "D" | "P" | ".";
/** Sentence patterns indexed by length in tokens (4..11), period included. */
const PATTERNS: Record<number, Slot[]> = {
  4: ["S", "N", "I", "."],
  5: ["S", "A", "N", "I", "."],
  6: ["S", "N", "V", "D", "N", "."],
  7: ["S", "A", "N", "V", "D", "N", "."],
  8: ["S", "A", "N", "V", "D", "A", "N", "."],
  9: ["S", "N", "V", "D", "N", "P", "D", "N", "."],
  10: ["S", "A", "N", "V", "D", "N", "P", "D", "N", "."],
  11: ["S", "A", "N", "V", "D", "A", "N", "P", "D", "N", "."],
};
/** Answers shorter than one sentence. */
const TINY: Record<number, string[]> = { 1: ["Yes"], 2: ["Yes", "."], 3: ["Yes", ",", " indeed"] };

interface Vocabulary {
  starters: readonly string[]; // answer-initial, no leading space
  startersSpaced: readonly string[]; // after a period
  startersLower: readonly string[]; // continuing another clause (after the hedge)
  classes: Record<Exclude<Slot, "S" | ".">, readonly string[]>;
}

let vocab: Vocabulary | undefined;

function singleToken(s: string): boolean {
  return getEncoder().encode(s).length === 1;
}

function spaced(words: readonly string[]): string[] {
  return words.map((w) => ` ${w}`).filter(singleToken);
}

/** Keeps only candidates that really are one token, so counts stay exact whatever the tokenizer version. */
export function vocabulary(): Vocabulary {
  if (vocab !== undefined) return vocab;
  const starters = STARTERS.filter((w) => singleToken(w) && singleToken(` ${w}`) && singleToken(` ${w.toLowerCase()}`));
  vocab = {
    starters,
    startersSpaced: starters.map((w) => ` ${w}`),
    startersLower: starters.map((w) => ` ${w.toLowerCase()}`),
    classes: { A: spaced(ADJECTIVES), N: spaced(NOUNS), V: spaced(VERBS), I: spaced(INTRANSITIVE), D: spaced(DETERMINERS), P: spaced(PREPOSITIONS) },
  };
  return vocab;
}

function pick(rng: () => number, pool: readonly string[]): string {
  return pool[Math.floor(rng() * pool.length)] ?? " the";
}

/**
 * Exactly `count` token pieces of plain sentences, determined by `seed`.
 * `leadingSpace` continues other text (the first word is lower-case and spaced).
 */
export function prosePieces(seed: number, count: number, leadingSpace = false): string[] {
  const v = vocabulary();
  const rng = createRng(seed);
  if (count < 4) {
    const tiny = TINY[count] ?? [];
    return leadingSpace ? tiny.map((p, i) => (i === 0 ? ` ${p.toLowerCase()}` : p)) : [...tiny];
  }
  const out: string[] = [];
  while (out.length < count) {
    const remaining = count - out.length;
    // A sentence length that leaves either nothing or room for at least one more sentence.
    let len = 4 + Math.floor(rng() * 8);
    if (len > remaining || remaining - len < 4) len = remaining <= 11 ? remaining : Math.min(len, remaining - 4);
    const pattern = PATTERNS[len] ?? PATTERNS[4] ?? [];
    for (const slot of pattern) {
      if (slot === ".") out.push(".");
      else if (slot === "S") {
        const pool = out.length === 0 ? (leadingSpace ? v.startersLower : v.starters) : v.startersSpaced;
        out.push(pick(rng, pool));
      } else out.push(pick(rng, v.classes[slot]));
    }
  }
  return out;
}

/** Answer length when not forced: 20..120 tokens, determined by the prompt. */
export function answerLength(promptHash: number): number {
  return 20 + (promptHash % 101);
}

export function hedgePieces(): readonly string[] {
  return tokenPieces(SIM_HEDGE_PHRASE);
}

export function refusalPieces(): readonly string[] {
  return tokenPieces(SIM_REFUSAL);
}

export interface AnswerSpec {
  promptHash: number; // hash of the conversation (not the model): capable models agree on content
  modelId: string;
  skill: number;
  difficulty: number; // 0 normal, 0.7 for [sim:hard], or [sim:difficulty=X]
  length: number; // target tokens
  variant: number; // choice index for n > 1
}

export interface Answer {
  pieces: string[];
  /** True when the model is too weak for the prompt and the answer is cut short (finish "length"). */
  truncatedByWeakness: boolean;
}

/**
 * Capable models (skill >= difficulty) give the "right" answer, which depends only on the prompt, so cheap and
 * strong models agree on easy prompts. Weaker ones hedge with different content; much weaker ones also stop short.
 */
export function buildAnswer(spec: AnswerSpec): Answer {
  const baseSeed = spec.variant === 0 ? spec.promptHash : hashString(`${spec.promptHash}#${spec.variant}`);
  if (spec.skill >= spec.difficulty) {
    return { pieces: prosePieces(baseSeed, spec.length), truncatedByWeakness: false };
  }
  const hedge = hedgePieces();
  const seed = hashString(`${spec.modelId}|${baseSeed}`);
  const bodyLen = Math.max(1, spec.length - hedge.length);
  const pieces = [...hedge, ...prosePieces(seed, bodyLen, true)];
  const veryWeak = spec.skill < spec.difficulty - 0.25;
  if (veryWeak) return { pieces: pieces.slice(0, Math.max(hedge.length + 1, Math.floor(pieces.length / 2))), truncatedByWeakness: true };
  return { pieces, truncatedByWeakness: false };
}
