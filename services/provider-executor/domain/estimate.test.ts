import { describe, expect, it } from "vitest";
import { ZERO_USAGE, type ChatChunk } from "../providers/types.ts";
import { OutputText, streamUsage } from "./estimate.ts";

const chunk = (delta: ChatChunk["choices"][number]["delta"]): ChatChunk => ({
  id: "c",
  object: "chat.completion.chunk",
  created: 0,
  model: "m",
  choices: [{ index: 0, delta, finish_reason: null }],
});

describe("streamUsage", () => {
  const seen = new OutputText();
  seen.add(chunk({ content: "Hello there, " }));
  seen.add(chunk({ content: "how are you today?" }));
  seen.add(chunk({ tool_calls: [{ index: 0, function: { name: "lookup", arguments: '{"q":"x"}' } }] }));

  it("uses the provider's counts when the stream completed", () => {
    const u = { ...ZERO_USAGE, inputTokens: 5, outputTokens: 3 };
    expect(streamUsage({ usage: u, complete: true }, () => 99, seen)).toBe(u);
  });

  it("estimates everything with the tokenizer when the provider said nothing", () => {
    const u = streamUsage(null, () => 42, seen);
    expect(u).toMatchObject({ inputTokens: 42, estimated: true });
    expect(u.outputTokens).toBeGreaterThan(8);
  });

  it("keeps a partial report's input side and counts the output", () => {
    const partial = { ...ZERO_USAGE, inputTokens: 7, cachedInputTokens: 100, outputTokens: 1 };
    const u = streamUsage({ usage: partial, complete: false }, () => 42, seen);
    expect(u).toMatchObject({ inputTokens: 7, cachedInputTokens: 100, estimated: true });
    expect(u.outputTokens).toBe(seen.tokens());
  });
});
