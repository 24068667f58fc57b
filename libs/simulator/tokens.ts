// Token counting with a real tokenizer (o200k_base), the process's shared encoder (libs/tokens); counts for
// identical strings are memoized in a bounded map so hot loops never re-tokenize.
import { sharedEncoder, type TokenEncoder } from "#libs/tokens/count.ts";
import { hashString } from "./hash.ts";

let encoder: TokenEncoder | undefined;

/**
 * The shared encoder with special tokens' text ("<|endoftext|>") counted as ordinary text, as the providers
 * treat message content: a prompt containing it is answered, never a 500 (js-tiktoken's default encode throws).
 */
export function getEncoder(): TokenEncoder {
  if (encoder === undefined) {
    const bpe = sharedEncoder();
    encoder = { encode: (text) => bpe.encodeOrdinary(text), decode: (tokens) => bpe.decode(tokens) };
  }
  return encoder;
}

export interface TextInfo {
  tokens: number;
  hash: number;
}

// Two FIFO-bounded memos: many short strings, and a few long ones (long prompts repeat in caching tests and
// are the slowest to tokenize, but must not pin hundreds of megabytes).
const SHORT_LIMIT = 20_000;
const LONG_LIMIT = 64;
const LONG_CHARS = 8_192;
const shortMemo = new Map<string, TextInfo>();
const longMemo = new Map<string, TextInfo>();

/** Token count and content hash of a string, memoized. */
export function textInfo(text: string): TextInfo {
  const memo = text.length > LONG_CHARS ? longMemo : shortMemo;
  const hit = memo.get(text);
  if (hit !== undefined) return hit;
  const info: TextInfo = { tokens: text.length === 0 ? 0 : boundedCount(text), hash: hashString(text) };
  if (memo.size >= (memo === longMemo ? LONG_LIMIT : SHORT_LIMIT)) {
    const oldest = memo.keys().next();
    if (oldest.done !== true) memo.delete(oldest.value);
  }
  memo.set(text, info);
  return info;
}

const LONG_RUN = /\S{256,}/g;
const SLICE = 64;
const sliceMemo = new Map<string, number>();

function sliceCount(slice: string): number {
  let n = sliceMemo.get(slice);
  if (n === undefined) {
    n = getEncoder().encode(slice).length;
    if (sliceMemo.size >= 10_000) sliceMemo.clear();
    sliceMemo.set(slice, n);
  }
  return n;
}

/**
 * js-tiktoken's BPE is quadratic in the length of one pre-token ("x".repeat(20000) takes ~90 s), so runs of 256+
 * non-space characters are counted in memoized 64-character slices: bounded time, a count within a few percent.
 */
function boundedCount(text: string): number {
  const enc = getEncoder();
  LONG_RUN.lastIndex = 0;
  if (!LONG_RUN.test(text)) return enc.encode(text).length;
  let total = 0;
  let last = 0;
  LONG_RUN.lastIndex = 0;
  for (const m of text.matchAll(LONG_RUN)) {
    if (m.index > last) total += enc.encode(text.slice(last, m.index)).length;
    for (let i = 0; i < m[0].length; i += SLICE) total += sliceCount(m[0].slice(i, i + SLICE));
    last = m.index + m[0].length;
  }
  if (last < text.length) total += enc.encode(text.slice(last)).length;
  return total;
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
