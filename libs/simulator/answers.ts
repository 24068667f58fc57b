// Deterministic answer text. Answers are built from words that are single o200k tokens, so an answer of N
// pieces is exactly N completion tokens without tokenizing it on the hot path.
import { createRng, hashString } from "./hash.ts";
import { getEncoder, tokenPieces } from "./tokens.ts";

/** Opening of every low-quality answer (weak model on a hard prompt); evaluators and tests can look for it. */
export const SIM_HEDGE_PHRASE = "I'm not entirely sure about this, but it might be that";
export const SIM_REFUSAL = "I'm sorry, I can't help with that.";

const STARTERS = ["The", "This", "Each", "Most", "Many", "Our", "Your", "These", "Such", "Every", "Some", "In", "For"];
const WORDS = (
  "the a an of to and in for on with as by at from that this it is are was be can will should may must often " +
  "answer result value system model data process method approach time cost price budget model request response " +
  "cache query user team project plan goal step detail number rate level point part case example reason idea " +
  "simple clear direct careful quick strong small large main key best good useful common general specific " +
  "first second final next last new old short long high low fast slow safe exact full " +
  "shows uses needs gives makes takes helps keeps finds builds runs checks moves sets holds returns means " +
  "depends follows improves reduces increases matters works changes stays remains " +
  "because therefore however also usually still only then thus even well much more less most"
).split(" ");

interface Vocabulary {
  starters: readonly string[]; // sentence-initial, no leading space
  startersSpaced: readonly string[]; // sentence-initial after a period, leading space
  words: readonly string[]; // leading space
  period: string;
  comma: string;
}

let vocab: Vocabulary | undefined;

function singleToken(s: string): boolean {
  return getEncoder().encode(s).length === 1;
}

/** Keeps only candidates that really are one token, so counts stay exact whatever the tokenizer version. */
export function vocabulary(): Vocabulary {
  if (vocab !== undefined) return vocab;
  const starters = STARTERS.filter((w) => singleToken(w) && singleToken(` ${w}`));
  const words = [...new Set(WORDS)].map((w) => ` ${w}`).filter(singleToken);
  vocab = { starters, startersSpaced: starters.map((w) => ` ${w}`), words, period: ".", comma: "," };
  return vocab;
}

/**
 * Exactly `count` token pieces of plausible prose, determined by `seed`.
 * `leadingSpace` is for text appended after other pieces.
 */
export function prosePieces(seed: number, count: number, leadingSpace = false): string[] {
  const v = vocabulary();
  const rng = createRng(seed);
  const out: string[] = [];
  let sentenceLeft = 0;
  let atStart = true;
  let afterWord = false;
  while (out.length < count) {
    const remaining = count - out.length;
    if (atStart) {
      const pool = out.length === 0 && !leadingSpace ? v.starters : v.startersSpaced;
      out.push(pool[Math.floor(rng() * pool.length)] ?? "The");
      sentenceLeft = 5 + Math.floor(rng() * 10);
      atStart = false;
      afterWord = false;
      continue;
    }
    // End a sentence when due (unless too few pieces would remain for another one), and always at the end.
    if (remaining === 1 || (sentenceLeft <= 1 && remaining > 4)) {
      out.push(v.period);
      atStart = true;
      continue;
    }
    // A comma only after a word (never after the starter or another comma: ",," would merge into one token).
    if (afterWord && sentenceLeft > 3 && remaining > 2 && rng() < 0.08) {
      out.push(v.comma);
      afterWord = false;
    } else {
      out.push(v.words[Math.floor(rng() * v.words.length)] ?? " the");
      afterWord = true;
    }
    sentenceLeft--;
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
