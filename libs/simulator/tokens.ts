// Token counting with a real tokenizer (o200k_base). Building the encoder takes ~0.8 s, so it is built once per
// process; counts for identical strings are memoized in a bounded map so hot loops never re-tokenize.
import { getEncoding, type Tiktoken } from "js-tiktoken";
import { hashString } from "./hash.ts";

let encoder: Tiktoken | undefined;

export function getEncoder(): Tiktoken {
  encoder ??= getEncoding("o200k_base");
  return encoder;
}

export interface TextInfo {
  tokens: number;
  hash: number;
}

const MEMO_LIMIT = 20_000;
const memo = new Map<string, TextInfo>();

/** Token count and content hash of a string, memoized (FIFO-bounded). */
export function textInfo(text: string): TextInfo {
  const hit = memo.get(text);
  if (hit !== undefined) return hit;
  const info: TextInfo = { tokens: text.length === 0 ? 0 : getEncoder().encode(text).length, hash: hashString(text) };
  if (memo.size >= MEMO_LIMIT) {
    const oldest = memo.keys().next();
    if (oldest.done !== true) memo.delete(oldest.value);
  }
  memo.set(text, info);
  return info;
}

export function countTokens(text: string): number {
  return textInfo(text).tokens;
}

const piecesMemo = new Map<string, readonly string[]>();

/**
 * Splits a text into its tokens' strings, so streams can emit one token per chunk and truncation can cut at an
 * exact token count. Falls back to whole-text when per-token decoding would split a multi-byte character.
 */
export function tokenPieces(text: string): readonly string[] {
  const hit = piecesMemo.get(text);
  if (hit !== undefined) return hit;
  const enc = getEncoder();
  const ids = enc.encode(text);
  let pieces: string[] = ids.map((id) => enc.decode([id]));
  if (pieces.join("") !== text) pieces = splitEvenly(text, ids.length);
  if (piecesMemo.size >= 2_000) piecesMemo.clear();
  piecesMemo.set(text, pieces);
  return pieces;
}

/** n roughly equal chunks whose concatenation is exactly text (used only for non-ASCII fallbacks). */
function splitEvenly(text: string, n: number): string[] {
  const chars = Array.from(text);
  const out: string[] = [];
  const size = Math.max(1, Math.ceil(chars.length / Math.max(1, n)));
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(""));
  return out;
}
