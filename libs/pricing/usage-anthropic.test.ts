import { describe, expect, it } from "vitest";
import { fromAnthropicUsage } from "./usage-anthropic.ts";
import { usage } from "./usage-types.ts";

describe("fromAnthropicUsage (input_tokens excludes cache reads and writes)", () => {
  it.each([
    // Without the TTL breakdown every write is the default 5-minute kind.
    [{ input_tokens: 12, output_tokens: 40, cache_read_input_tokens: 900, cache_creation_input_tokens: 300 }, usage({ inputTokens: 12, cachedInputTokens: 900, cacheWrite5mTokens: 300, outputTokens: 40 })],
    [
      { input_tokens: 5, output_tokens: 1, cache_creation_input_tokens: 1000, cache_creation: { ephemeral_5m_input_tokens: 400, ephemeral_1h_input_tokens: 600 } },
      usage({ inputTokens: 5, cacheWrite5mTokens: 400, cacheWrite1hTokens: 600, outputTokens: 1 }),
    ],
    [{ input_tokens: 5, output_tokens: 90, output_tokens_details: { thinking_tokens: 60 } }, usage({ inputTokens: 5, outputTokens: 90, reasoningTokens: 60 })],
    // message_delta usage: nulls where message_start already reported.
    [{ output_tokens: 25, input_tokens: null, cache_read_input_tokens: null, cache_creation_input_tokens: null }, usage({ outputTokens: 25 })],
  ])("%j", (u, want) => expect(fromAnthropicUsage(u)).toEqual(want));
});
