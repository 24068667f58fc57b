import type Anthropic from "@anthropic-ai/sdk";
import { describe, expect, it } from "vitest";
import { finishReasonFromStop, fromAnthropicMessage } from "./anthropic-response.ts";
import { AnthropicStreamTranslator } from "./anthropic-stream.ts";

const usage = (over: Partial<Anthropic.Messages.Usage> = {}): Anthropic.Messages.Usage => ({
  input_tokens: 10,
  output_tokens: 5,
  cache_read_input_tokens: null,
  cache_creation_input_tokens: null,
  cache_creation: null,
  inference_geo: null,
  output_tokens_details: null,
  server_tool_use: null,
  service_tier: null,
  speed: null,
  ...over,
});

function message(content: unknown[], stop: Anthropic.Messages.StopReason, u = usage()): Anthropic.Messages.Message {
  // Only the fields the translator reads; the rest of Message is provider metadata.
  return { id: "msg_1", type: "message", role: "assistant", model: "claude-up", content, stop_reason: stop, stop_sequence: null, usage: u } as unknown as Anthropic.Messages.Message;
}

describe("finishReasonFromStop", () => {
  it.each([
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["max_tokens", "length"],
    ["tool_use", "tool_calls"],
    ["refusal", "content_filter"],
    [null, "stop"],
  ] as const)("%s → %s", (stop, want) => expect(finishReasonFromStop(stop)).toBe(want));
});

describe("fromAnthropicMessage", () => {
  it("joins text, reports the gateway model and disjoint + OpenAI usage", () => {
    const u = usage({ input_tokens: 20, output_tokens: 7, cache_read_input_tokens: 100, cache_creation_input_tokens: 30, cache_creation: { ephemeral_5m_input_tokens: 10, ephemeral_1h_input_tokens: 20 } });
    const { completion, usage: norm } = fromAnthropicMessage(message([{ type: "text", text: "Hello " }, { type: "text", text: "world" }], "end_turn", u), "claude-x", 1700000000);
    expect(completion).toMatchObject({ id: "msg_1", object: "chat.completion", created: 1700000000, model: "claude-x" });
    expect(completion.choices[0]).toMatchObject({ index: 0, finish_reason: "stop", message: { role: "assistant", content: "Hello world" } });
    expect(norm).toEqual({ inputTokens: 20, cachedInputTokens: 100, cacheWrite5mTokens: 10, cacheWrite1hTokens: 20, outputTokens: 7, reasoningTokens: 0, estimated: false });
    expect(completion.usage).toEqual({ prompt_tokens: 150, completion_tokens: 7, total_tokens: 157, prompt_tokens_details: { cached_tokens: 100, cache_write_tokens: 30 } });
  });

  it("names the stop sequence that ended the answer on the choice (vLLM's stop_reason)", () => {
    const m = { ...message([{ type: "text", text: "One" }], "stop_sequence"), stop_sequence: "." };
    const { completion } = fromAnthropicMessage(m, "claude-x", 1);
    expect(completion.choices[0]).toMatchObject({ finish_reason: "stop", stop_reason: "." });
    expect(fromAnthropicMessage(message([{ type: "text", text: "One" }], "end_turn"), "claude-x", 1).completion.choices[0]).not.toHaveProperty("stop_reason");
  });

  it("turns tool_use blocks into tool_calls with JSON arguments", () => {
    const { completion } = fromAnthropicMessage(
      message([{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } }], "tool_use"),
      "claude-x",
      1,
    );
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe("tool_calls");
    expect(choice?.message.content).toBeNull();
    expect(choice?.message.tool_calls).toEqual([{ id: "toolu_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }]);
  });
});

describe("AnthropicStreamTranslator", () => {
  const ev = (e: unknown) => e as Anthropic.Messages.RawMessageStreamEvent;

  it("emits role, text and tool-call deltas, finish and a usage chunk in order", () => {
    const t = new AnthropicStreamTranslator("claude-x", 42);
    const events = [
      { type: "message_start", message: message([], "end_turn", usage({ input_tokens: 12, output_tokens: 1, cache_read_input_tokens: 64 })) },
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Let me check" } },
      { type: "content_block_stop", index: 0 },
      { type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "toolu_9", name: "get_weather", input: {} } },
      { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '{"city":' } },
      { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '"Paris"}' } },
      { type: "content_block_stop", index: 1 },
      { type: "message_delta", delta: { stop_reason: "tool_use", stop_sequence: null }, usage: { output_tokens: 25, input_tokens: null, cache_read_input_tokens: null, cache_creation_input_tokens: null } },
      { type: "message_stop" },
    ];
    const chunks = events.flatMap((e) => t.push(ev(e)));
    expect(chunks.map((c) => c.choices[0]?.delta ?? "usage")).toEqual([
      { role: "assistant", content: "" },
      { content: "Let me check" },
      { tool_calls: [{ index: 0, id: "toolu_9", type: "function", function: { name: "get_weather", arguments: "" } }] },
      { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] },
      {},
      "usage",
    ]);
    expect(chunks.every((c) => c.id === "msg_1" && c.model === "claude-x" && c.object === "chat.completion.chunk" && c.created === 42)).toBe(true);
    expect(chunks[5]?.choices[0]?.finish_reason).toBe("tool_calls");
    expect(chunks[6]?.choices).toEqual([]);
    expect(chunks[6]?.usage).toEqual({ prompt_tokens: 76, completion_tokens: 25, total_tokens: 101, prompt_tokens_details: { cached_tokens: 64 } });
    expect(t.usage()).toMatchObject({ inputTokens: 12, cachedInputTokens: 64, outputTokens: 25 });
    expect(t.hasFinished).toBe(true);
  });

  it("reports partial usage and no finish when the stream is cut", () => {
    const t = new AnthropicStreamTranslator("m", 1);
    t.push(ev({ type: "message_start", message: message([], "end_turn", usage({ input_tokens: 9, output_tokens: 1 })) }));
    t.push(ev({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "par" } }));
    expect(t.hasFinished).toBe(false);
    expect(t.usage()).toMatchObject({ inputTokens: 9, outputTokens: 1 });
  });
});
