// Token counting with a real tokenizer (o200k_base), made cheap for the hot path: UTF-8 byte length is an
// upper bound on BPE tokens, so short prompts are bounded without tokenizing at all.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { CompactBpe, type BpeRanks, type TokenEncoder } from "./bpe.ts";

export type { TokenEncoder };

let encoder: TokenEncoder | undefined;

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
export function sharedEncoder(): TokenEncoder {
  encoder ??= new CompactBpe(readO200kRanks());
  return encoder;
}
const enc = sharedEncoder;

/** Builds the encoder now so the first long prompt does not pay for it. */
export function warmTokenizer(): void {
  enc();
}

/** Exact token count of a text. */
export function countTokens(text: string): number {
  return text.length === 0 ? 0 : enc().encode(text).length;
}

/** Per-message framing overhead in OpenAI's chat format (role and separators). */
const PER_MESSAGE = 4;

export interface TokenEstimate {
  tokens: number;
  /** true when `tokens` is an exact count, false when it is the byte upper bound. */
  exact: boolean;
}

/**
 * Tokens of a chat prompt. Below `exactAbove` bytes the byte length is returned as an upper bound
 * (safe for context-window filtering and worst-case budget reservations); above it we tokenize.
 */
export function countPromptTokens(texts: readonly string[], exactAbove = 16_384): TokenEstimate {
  let bytes = 0;
  for (const t of texts) bytes += Buffer.byteLength(t, "utf8");
  const framing = PER_MESSAGE * texts.length + 3;
  if (bytes <= exactAbove) return { tokens: bytes + framing, exact: false };
  let tokens = framing;
  for (const t of texts) tokens += countTokens(t);
  return { tokens, exact: true };
}
