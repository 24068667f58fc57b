// Usage when the provider reported none. The provider wire formats are read in usage-openai.ts and
// usage-anthropic.ts; the plain type and its proto form are in usage-types.ts.
import { countTokens } from "#libs/tokens/count.ts";
import type { UsageCounts } from "./usage-types.ts";

export type { UsageCounts } from "./usage-types.ts";
export { countTokens } from "#libs/tokens/count.ts";

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
