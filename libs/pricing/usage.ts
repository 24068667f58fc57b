import type { Tiktoken } from "js-tiktoken/lite";
import { sharedEncoder } from "#libs/tokens/count.ts";
import type { UsageCounts } from "./usage-types.ts";

export type { UsageCounts } from "./usage-types.ts";

/** OpenAI usage: Chat Completions shape and Responses API shape (all fields optional/nullable). */
export interface OpenAIUsageLike {
  prompt_tokens?: number | null;
  completion_tokens?: number | null;
  prompt_tokens_details?: { cached_tokens?: number | null } | null;
  completion_tokens_details?: { reasoning_tokens?: number | null } | null;
  input_tokens?: number | null;
  output_tokens?: number | null;
  input_tokens_details?: { cached_tokens?: number | null } | null;
  output_tokens_details?: { reasoning_tokens?: number | null } | null;
}

/** Anthropic Messages usage (message_start / message_delta / final message). */
export interface AnthropicUsageLike {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_creation?: {
    ephemeral_5m_input_tokens?: number | null;
    ephemeral_1h_input_tokens?: number | null;
  } | null;
}

const n = (v: number | null | undefined): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);

/**
 * OpenAI counts cached reads INSIDE prompt_tokens, and reasoning inside completion_tokens:
 * input = prompt - cached; output = completion (reasoning stays a subset).
 */
export function fromOpenAIUsage(u: OpenAIUsageLike): UsageCounts {
  const prompt = n(u.prompt_tokens ?? u.input_tokens);
  const cached = n(u.prompt_tokens_details?.cached_tokens ?? u.input_tokens_details?.cached_tokens);
  const output = n(u.completion_tokens ?? u.output_tokens);
  const reasoning = n(u.completion_tokens_details?.reasoning_tokens ?? u.output_tokens_details?.reasoning_tokens);
  return {
    inputTokens: Math.max(0, prompt - cached),
    cachedInputTokens: cached,
    cacheWrite5mTokens: 0,
    cacheWrite1hTokens: 0,
    outputTokens: output,
    reasoningTokens: Math.min(reasoning, output),
    estimated: false,
  };
}

/**
 * Anthropic's input_tokens already EXCLUDES cache reads and writes. Cache writes are split by TTL
 * in cache_creation when present; otherwise all writes are the default 5-minute TTL.
 */
export function fromAnthropicUsage(u: AnthropicUsageLike): UsageCounts {
  const total = n(u.cache_creation_input_tokens);
  let w5 = total;
  let w1h = 0;
  if (u.cache_creation) {
    w1h = n(u.cache_creation.ephemeral_1h_input_tokens);
    w5 = n(u.cache_creation.ephemeral_5m_input_tokens);
    // If the split does not account for the total, the remainder is the default 5m TTL.
    if (total > w5 + w1h) w5 = total - w1h;
  }
  return {
    inputTokens: n(u.input_tokens),
    cachedInputTokens: n(u.cache_read_input_tokens),
    cacheWrite5mTokens: w5,
    cacheWrite1hTokens: w1h,
    outputTokens: n(u.output_tokens),
    reasoningTokens: 0,
    estimated: false,
  };
}

let encoder: Tiktoken | undefined;
function enc(): Tiktoken {
  // o200k_base ships inside js-tiktoken (no download); loaded lazily since the ranks are large.
  encoder ??= sharedEncoder();
  return encoder;
}

export function countTokens(text: string): number {
  return text.length === 0 ? 0 : enc().encode(text).length;
}

/**
 * Tokenizer estimate for a stream cut before the provider reported usage. Marked estimated=true;
 * cached/cache-write tokens are unknown and counted as full-rate input (the conservative side).
 */
export function estimateUsage(promptText: string, completionText: string): UsageCounts {
  return {
    inputTokens: countTokens(promptText),
    cachedInputTokens: 0,
    cacheWrite5mTokens: 0,
    cacheWrite1hTokens: 0,
    outputTokens: countTokens(completionText),
    reasoningTokens: 0,
    estimated: true,
  };
}
