// Anthropic's usage object → the gateway's disjoint UsageCounts: the one place that reads it.
import { tokenCount, type UsageCounts } from "./usage-types.ts";

/** Anthropic Messages usage (message_start, message_delta and final message usage all fit). */
export interface AnthropicUsageLike {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_creation?: { ephemeral_5m_input_tokens?: number | null; ephemeral_1h_input_tokens?: number | null } | null;
  output_tokens_details?: { thinking_tokens?: number | null } | null;
}

/**
 * Anthropic's input_tokens already EXCLUDES cache reads and writes. Cache writes are split by TTL in
 * cache_creation when present; without that breakdown every write is the default 5-minute kind.
 */
export function fromAnthropicUsage(u: AnthropicUsageLike): UsageCounts {
  return {
    inputTokens: tokenCount(u.input_tokens),
    cachedInputTokens: tokenCount(u.cache_read_input_tokens),
    cacheWrite5mTokens: u.cache_creation ? tokenCount(u.cache_creation.ephemeral_5m_input_tokens) : tokenCount(u.cache_creation_input_tokens),
    cacheWrite1hTokens: tokenCount(u.cache_creation?.ephemeral_1h_input_tokens),
    outputTokens: tokenCount(u.output_tokens),
    reasoningTokens: tokenCount(u.output_tokens_details?.thinking_tokens),
    estimated: false,
  };
}
