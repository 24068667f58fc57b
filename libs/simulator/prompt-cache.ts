// Simulated provider-side prompt caching. A prompt is a list of segments (tools, system blocks, messages or
// content blocks), each with a content hash and token count; prefixes are identified by a chained hash.
import { combineHash } from "./hash.ts";

export interface PromptSegment {
  hash: number;
  tokens: number;
  /** Anthropic cache_control breakpoint on this segment. */
  breakpoint?: boolean;
  /** Breakpoint lifetime ("5m" default, "1h" extended). */
  ttlMs?: number;
}

const FIVE_MINUTES = 5 * 60_000;
const MAX_ENTRIES = 50_000;

/** Bounded prefix store shared by both protocols of one simulator instance. */
export class PrefixStore {
  private readonly entries = new Map<string, number>(); // key -> expiresAt (ms)

  constructor(private readonly now: () => number = Date.now) {}

  has(key: string): boolean {
    const exp = this.entries.get(key);
    if (exp === undefined) return false;
    if (exp < this.now()) {
      this.entries.delete(key);
      return false;
    }
    return true;
  }

  put(key: string, ttlMs: number): void {
    const expiresAt = this.now() + ttlMs;
    const prev = this.entries.get(key);
    if (prev !== undefined) this.entries.delete(key); // re-insert to keep insertion order ~ recency
    else if (this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, Math.max(expiresAt, prev ?? 0));
  }

  clear(): void {
    this.entries.clear();
  }
}

function prefixHashes(segments: readonly PromptSegment[]): { hashes: number[]; cumulative: number[] } {
  const hashes: number[] = [];
  const cumulative: number[] = [];
  let h = 0;
  let c = 0;
  for (const s of segments) {
    h = combineHash(h, s.hash);
    c += s.tokens;
    hashes.push(h);
    cumulative.push(c);
  }
  return { hashes, cumulative };
}

const OPENAI_MIN_CACHED = 1024;
const OPENAI_BLOCK = 128;

/**
 * OpenAI automatic caching: the longest previously seen prefix (at a segment boundary) of at least 1024 tokens
 * is served from cache, rounded down to 128-token blocks. Every prefix >= 1024 tokens of this prompt is then stored.
 * Returns cached_tokens.
 */
export function openaiCachedTokens(store: PrefixStore, model: string, segments: readonly PromptSegment[], total: number): number {
  if (total < OPENAI_MIN_CACHED) return 0;
  const { hashes, cumulative } = prefixHashes(segments);
  let cached = 0;
  for (let i = hashes.length - 1; i >= 0; i--) {
    const c = cumulative[i] ?? 0;
    if (c < OPENAI_MIN_CACHED) break;
    if (store.has(`${model}|${hashes[i]}`)) {
      cached = Math.floor(c / OPENAI_BLOCK) * OPENAI_BLOCK;
      break;
    }
  }
  for (let i = 0; i < hashes.length; i++) {
    if ((cumulative[i] ?? 0) >= OPENAI_MIN_CACHED) store.put(`${model}|${hashes[i]}`, FIVE_MINUTES);
  }
  return cached;
}

export interface AnthropicCacheUsage {
  inputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
  /** creation split by lifetime */
  creation5m: number;
  creation1h: number;
}

/**
 * Anthropic explicit caching: the longest cached prefix ending at or before the last cache_control breakpoint is
 * read (found by looking back over earlier segment boundaries, as the API does); tokens from there up to the last
 * breakpoint are written; input_tokens counts only what follows the last breakpoint (or is uncached).
 */
export function anthropicCacheUsage(store: PrefixStore, model: string, segments: readonly PromptSegment[], total: number): AnthropicCacheUsage {
  let last = -1;
  for (let i = segments.length - 1; i >= 0; i--) {
    if (segments[i]?.breakpoint === true) {
      last = i;
      break;
    }
  }
  if (last < 0) return { inputTokens: total, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, creation5m: 0, creation1h: 0 };
  const { hashes, cumulative } = prefixHashes(segments);
  let read = 0;
  let readIdx = -1;
  for (let i = last; i >= 0; i--) {
    if (store.has(`${model}|${hashes[i]}`)) {
      read = cumulative[i] ?? 0;
      readIdx = i;
      break;
    }
  }
  if (readIdx >= 0) store.put(`${model}|${hashes[readIdx]}`, FIVE_MINUTES); // a hit refreshes the entry
  const upToLast = cumulative[last] ?? 0;
  const creation = upToLast - read;
  let creation1h = 0;
  for (let i = 0; i <= last; i++) {
    const seg = segments[i];
    if (seg?.breakpoint !== true) continue;
    const ttl = seg.ttlMs ?? FIVE_MINUTES;
    store.put(`${model}|${hashes[i]}`, ttl);
    if (i > readIdx && ttl > FIVE_MINUTES) {
      // Tokens written under a 1h breakpoint (the span since the previous breakpoint or the read point).
      creation1h = (cumulative[i] ?? 0) - read;
    }
  }
  creation1h = Math.min(creation1h, creation);
  return {
    inputTokens: total - upToLast,
    cacheCreationInputTokens: creation,
    cacheReadInputTokens: read,
    creation5m: creation - creation1h,
    creation1h,
  };
}
