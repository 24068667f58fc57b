// Provider usage → the disjoint Usage of common.proto. OpenAI's prompt_tokens INCLUDES cached reads
// (and cache writes when reported); Anthropic's input_tokens EXCLUDES cache reads and cache writes.
import type OpenAI from "openai";
import type { Usage } from "./types.ts";

const nonNeg = (n: number | null | undefined): number => (typeof n === "number" && Number.isFinite(n) && n > 0 ? n : 0);

export function usageFromOpenAI(u: OpenAI.CompletionUsage): Usage {
  const cached = nonNeg(u.prompt_tokens_details?.cached_tokens);
  const cacheWrite = nonNeg(u.prompt_tokens_details?.cache_write_tokens);
  return {
    inputTokens: Math.max(0, nonNeg(u.prompt_tokens) - cached - cacheWrite),
    cachedInputTokens: cached,
    // OpenAI caching has no TTL tiers; its writes are the short-lived kind.
    cacheWrite5mTokens: cacheWrite,
    cacheWrite1hTokens: 0,
    outputTokens: nonNeg(u.completion_tokens),
    reasoningTokens: nonNeg(u.completion_tokens_details?.reasoning_tokens),
    estimated: false,
  };
}

/** The subset of Anthropic's usage we read (message_start usage and message_delta usage both fit). */
export interface AnthropicUsageLike {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_creation?: { ephemeral_5m_input_tokens?: number | null; ephemeral_1h_input_tokens?: number | null } | null;
  output_tokens_details?: { thinking_tokens?: number | null } | null;
}

export function usageFromAnthropic(u: AnthropicUsageLike): Usage {
  const creation = nonNeg(u.cache_creation_input_tokens);
  const w1h = nonNeg(u.cache_creation?.ephemeral_1h_input_tokens);
  // Without the TTL breakdown every write is the default 5-minute kind.
  const w5m = u.cache_creation ? nonNeg(u.cache_creation.ephemeral_5m_input_tokens) : creation;
  return {
    inputTokens: nonNeg(u.input_tokens),
    cachedInputTokens: nonNeg(u.cache_read_input_tokens),
    cacheWrite5mTokens: w5m,
    cacheWrite1hTokens: w1h,
    outputTokens: nonNeg(u.output_tokens),
    reasoningTokens: nonNeg(u.output_tokens_details?.thinking_tokens),
    estimated: false,
  };
}

/** Disjoint Usage → OpenAI usage object (prompt_tokens counts every input kind, like OpenAI does). */
export function usageToOpenAI(u: Usage): OpenAI.CompletionUsage {
  const cacheWrite = u.cacheWrite5mTokens + u.cacheWrite1hTokens;
  const prompt = u.inputTokens + u.cachedInputTokens + cacheWrite;
  const out: OpenAI.CompletionUsage = {
    prompt_tokens: prompt,
    completion_tokens: u.outputTokens,
    total_tokens: prompt + u.outputTokens,
    prompt_tokens_details: { cached_tokens: u.cachedInputTokens },
  };
  if (cacheWrite > 0 && out.prompt_tokens_details) out.prompt_tokens_details.cache_write_tokens = cacheWrite;
  if (u.reasoningTokens > 0) out.completion_tokens_details = { reasoning_tokens: u.reasoningTokens };
  return out;
}

export { addUsage } from "#libs/pricing/usage-types.ts";
