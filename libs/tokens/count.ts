// Token counting with a real tokenizer (o200k_base), made cheap for the hot path: UTF-8 byte length is an
// upper bound on BPE tokens, so short prompts are bounded without tokenizing at all.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { CompactBpe, type BpeRanks, type TokenEncoder } from "./bpe.ts";

export type { TokenEncoder };

let encoder: CompactBpe | undefined;

/**
 * js-tiktoken's o200k ranks, read from the package's file rather than imported: an imported module's
 * source stays in memory for the life of the process (here 2 x 2.2 MB, the source and its string
 * literal), while these strings are garbage once the encoder is built.
 */
export function readO200kRanks(): BpeRanks {
  const text = readFileSync(createRequire(import.meta.url).resolve("js-tiktoken/ranks/o200k_base"), "utf8");
  const ranks = JSON.parse(text.slice(text.indexOf("{"), text.lastIndexOf("}") + 1)) as BpeRanks;
  if (typeof ranks.pat_str !== "string" || typeof ranks.bpe_ranks !== "string" || typeof ranks.special_tokens !== "object") throw new Error("js-tiktoken o200k_base: unexpected file layout");
  return ranks;
}

/**
 * The process's one o200k encoder, shared. js-tiktoken's ranks with our compact encoder (bpe.ts): the same
 * tokens as js-tiktoken's Tiktoken in ~5 MB instead of ~100 MB, built in ~0.1 s instead of ~1 s.
 */
export function sharedEncoder(): CompactBpe {
  encoder ??= new CompactBpe(readO200kRanks());
  return encoder;
}
const enc = sharedEncoder;

/** Builds the encoder now so the first long prompt does not pay for it. */
export function warmTokenizer(): void {
  enc();
}

/**
 * Characters tokenized exactly per count. Past it the rest is estimated from the rate measured on what
 * was tokenized, so one count costs at most this much tokenizer time (a few ms; ~0.6 s for 64K characters of one repeated letter on a loaded 2-core machine) whatever the input.
 */
export const EXACT_CHARS = 16_384;
/**
 * The estimate's floor in tokens per UTF-8 byte: ordinary text and code run at 0.25-0.3; without a floor
 * a cheap sample (64K spaces) followed by expensive text (CJK, random symbols) would be underestimated
 * ~100x; with it at most 4x (a token is at least one byte).
 */
const MIN_RATE = 0.25;

/**
 * Token count of a text: exact up to EXACT_CHARS, a bounded-time estimate past it. A special token's
 * text in a prompt ("<|endoftext|>") counts as ordinary text, never an error.
 */
export function countTokens(text: string): number {
  return text.length === 0 ? 0 : countTexts([text], EXACT_CHARS).tokens;
}

/**
 * Tokens of several texts within one budget of exactly tokenized characters: texts are tokenized in
 * order while the budget lasts (the one that crosses it only its head); the bytes left over are counted
 * at the measured rate (at least MIN_RATE).
 */
export function countTexts(texts: readonly string[], budgetChars = EXACT_CHARS): TokenEstimate {
  let left = budgetChars;
  let tokens = 0;
  let sampledBytes = 0;
  let restBytes = 0;
  for (const t of texts) {
    if (t.length === 0) continue;
    if (t.length <= left) {
      tokens += enc().encodeOrdinary(t).length;
      sampledBytes += Buffer.byteLength(t, "utf8");
      left -= t.length;
      continue;
    }
    let head = "";
    if (left > 0) {
      // Never cut a surrogate pair in two.
      const cut = isHighSurrogate(t.charCodeAt(left - 1)) ? left - 1 : left;
      head = t.slice(0, cut);
      tokens += enc().encodeOrdinary(head).length;
      sampledBytes += Buffer.byteLength(head, "utf8");
      left = 0;
    }
    restBytes += Buffer.byteLength(t, "utf8") - Buffer.byteLength(head, "utf8");
  }
  if (restBytes === 0) return { tokens, exact: true };
  const rate = Math.max(MIN_RATE, sampledBytes > 0 ? tokens / sampledBytes : 1);
  return { tokens: tokens + Math.ceil(restBytes * rate), exact: false };
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

/** Per-message framing overhead in OpenAI's chat format (role and separators). */
const PER_MESSAGE = 4;

export interface TokenEstimate {
  tokens: number;
  /** true when `tokens` is an exact count, false when it is the byte upper bound or an estimate. */
  exact: boolean;
}

/**
 * Tokens of a chat prompt. Below `exactAbove` bytes the byte length is returned as an upper bound
 * (safe for context-window filtering and worst-case budget reservations); above it we tokenize, exactly
 * up to `budgetChars` characters of the prompt and by estimate past them (countTexts).
 */
export function countPromptTokens(texts: readonly string[], exactAbove = 16_384, budgetChars = EXACT_CHARS): TokenEstimate {
  let bytes = 0;
  for (const t of texts) bytes += Buffer.byteLength(t, "utf8");
  const framing = PER_MESSAGE * texts.length + 3;
  if (bytes <= exactAbove) return { tokens: bytes + framing, exact: false };
  const counted = countTexts(texts, budgetChars);
  return { tokens: counted.tokens + framing, exact: counted.exact };
}
