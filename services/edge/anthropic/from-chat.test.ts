import type OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { anthropicUsageOf, stopReasonOf, toAnthropicMessage, toolInputOf } from "./from-chat.ts";

describe("toAnthropicMessage", () => {
  it("turns text and tool calls into content blocks, finish reasons into stop reasons, usage into Anthropic's disjoint counts", () => {
    const c: OpenAI.Chat.ChatCompletion = {
      id: "chatcmpl-1",
      object: "chat.completion",
      created: 1,
      model: "claude-sonnet-4-5",
      choices: [
        {
          index: 0,
          finish_reason: "tool_calls",
          logprobs: null,
          message: { role: "assistant", content: "Let me look.", refusal: null, tool_calls: [{ id: "toolu_9", type: "function", function: { name: "Read", arguments: '{"path":"a.ts"}' } }] },
        },
      ],
      // OpenAI counts cache reads and writes inside prompt_tokens: 100 = 10 fresh + 60 read + 30 written.
      usage: { prompt_tokens: 100, completion_tokens: 7, total_tokens: 107, prompt_tokens_details: { cached_tokens: 60, cache_write_tokens: 30 } as OpenAI.CompletionUsage.PromptTokensDetails },
    };
    expect(toAnthropicMessage(c, "1234-abcd")).toEqual({
      id: "msg_1234abcd",
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-5",
      content: [
        { type: "text", text: "Let me look." },
        { type: "tool_use", id: "toolu_9", name: "Read", input: { path: "a.ts" } },
      ],
      stop_reason: "tool_use",
      stop_sequence: null,
      usage: { input_tokens: 10, output_tokens: 7, cache_read_input_tokens: 60, cache_creation_input_tokens: 30 },
    });
  });

  it("maps every finish reason", () => {
    expect(stopReasonOf("stop")).toBe("end_turn");
    expect(stopReasonOf("length")).toBe("max_tokens");
    expect(stopReasonOf("tool_calls")).toBe("tool_use");
    expect(stopReasonOf("content_filter")).toBe("refusal");
    expect(stopReasonOf(null)).toBe("end_turn");
  });

  it("gives an object input for any tool arguments, and zero usage when none came", () => {
    expect(toolInputOf("")).toEqual({});
    expect(toolInputOf("{broken")).toEqual({});
    expect(toolInputOf("[1]")).toEqual({});
    expect(anthropicUsageOf(undefined)).toEqual({ input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
  });
});
