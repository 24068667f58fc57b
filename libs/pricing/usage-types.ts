import type { Usage } from "#libs/gen/llmgw/common/v1/common_pb.ts";

/**
 * Plain mirror of the proto `llmgw.common.v1.Usage` with `number` counts (token counts fit
 * in a double exactly far beyond any real request). The kinds are DISJOINT:
 * - inputTokens: billed at the full input rate; excludes cached reads and cache writes
 * - cachedInputTokens: prompt tokens read from the provider's prompt cache
 * - cacheWrite5mTokens / cacheWrite1hTokens: prompt tokens written to the cache (Anthropic)
 * - outputTokens: all generated tokens, INCLUDING reasoningTokens (a subset, reported apart)
 */
export interface UsageCounts {
  inputTokens: number;
  cachedInputTokens: number;
  cacheWrite5mTokens: number;
  cacheWrite1hTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  /** True when counted with a tokenizer because the provider never reported usage. */
  estimated: boolean;
}

export const ZERO_USAGE: Readonly<UsageCounts> = Object.freeze({
  inputTokens: 0,
  cachedInputTokens: 0,
  cacheWrite5mTokens: 0,
  cacheWrite1hTokens: 0,
  outputTokens: 0,
  reasoningTokens: 0,
  estimated: false,
});

/** A token count read from a provider's wire format: finite and positive, else 0. */
export function tokenCount(n: number | null | undefined): number {
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? n : 0;
}

export function usage(partial: Partial<UsageCounts>): UsageCounts {
  return { ...ZERO_USAGE, ...partial };
}

/** Proto Usage (bigint counts) → plain counts. */
export function fromProtoUsage(u: Usage | undefined): UsageCounts {
  if (!u) return { ...ZERO_USAGE };
  return {
    inputTokens: Number(u.inputTokens),
    cachedInputTokens: Number(u.cachedInputTokens),
    cacheWrite5mTokens: Number(u.cacheWrite5mTokens),
    cacheWrite1hTokens: Number(u.cacheWrite1hTokens),
    outputTokens: Number(u.outputTokens),
    reasoningTokens: Number(u.reasoningTokens),
    estimated: u.estimated,
  };
}

/**
 * Plain counts → proto Usage: the whole message as a literal (every field set, so it is what create()
 * would make, without create()'s per-call work on the request path).
 */
export function toProtoUsage(u: UsageCounts): Usage {
  return {
    $typeName: "llmgw.common.v1.Usage",
    inputTokens: BigInt(u.inputTokens),
    cachedInputTokens: BigInt(u.cachedInputTokens),
    cacheWrite5mTokens: BigInt(u.cacheWrite5mTokens),
    cacheWrite1hTokens: BigInt(u.cacheWrite1hTokens),
    outputTokens: BigInt(u.outputTokens),
    reasoningTokens: BigInt(u.reasoningTokens),
    estimated: u.estimated,
  };
}

export function addUsage(a: UsageCounts, b: UsageCounts): UsageCounts {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens,
    cacheWrite5mTokens: a.cacheWrite5mTokens + b.cacheWrite5mTokens,
    cacheWrite1hTokens: a.cacheWrite1hTokens + b.cacheWrite1hTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    reasoningTokens: a.reasoningTokens + b.reasoningTokens,
    estimated: a.estimated || b.estimated,
  };
}
