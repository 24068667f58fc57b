import type OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { completionToChunks } from "#libs/openai/replay.ts";
import type { GatewayInfo } from "../chat/gateway-info.ts";
import { ChatToAnthropicStream, sseFrame } from "./stream.ts";
import type { StreamEvent } from "./wire.ts";

const completion = (message: OpenAI.Chat.ChatCompletionMessage, finish: OpenAI.Chat.ChatCompletion.Choice["finish_reason"]): OpenAI.Chat.ChatCompletion => ({
  id: "c",
  object: "chat.completion",
  created: 1,
  model: "m",
  choices: [{ index: 0, finish_reason: finish, logprobs: null, message }],
  usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17, prompt_tokens_details: { cached_tokens: 2 } },
});

const INFO: GatewayInfo = { request_id: "r", model: "m", tier: "LOW", cache: "miss", cost_usd: "0.001", baseline_usd: "0.004", savings_usd: "0.003", unpriced: false, route_reasons: [] };

/** The pipeline's stream for a completion: its last chunk carries the gateway's figures. */
function run(c: OpenAI.Chat.ChatCompletion): StreamEvent[] {
  const s = new ChatToAnthropicStream("msg_1", "m", 0);
  const out: StreamEvent[] = [];
  const chunks = completionToChunks(c, { includeUsage: true });
  chunks.forEach((chunk, i) => out.push(...s.push(JSON.stringify(i === chunks.length - 1 ? { ...chunk, llmgw: INFO } : chunk))));
  out.push(...s.end());
  return out;
}

describe("ChatToAnthropicStream", () => {
  it("writes Anthropic's sequence for a text answer, usage and the gateway's figures on message_delta", () => {
    const events = run(completion({ role: "assistant", content: "Hello there friend", refusal: null }, "stop"));
    expect(events.map((e) => e.type)).toEqual(["message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop"]);
    const text = events.flatMap((e) => (e.type === "content_block_delta" && e.delta.type === "text_delta" ? [e.delta.text] : [])).join("");
    expect(text).toBe("Hello there friend");
    expect(events.at(-2)).toEqual({
      type: "message_delta",
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 2, cache_creation_input_tokens: 0 },
      llmgw: INFO,
    });
  });

  it("opens a tool_use block per tool call with input_json_delta, after the text block", () => {
    const events = run(
      completion(
        {
          role: "assistant",
          content: "Checking.",
          refusal: null,
          tool_calls: [
            { id: "t1", type: "function", function: { name: "a", arguments: '{"x":1}' } },
            { id: "t2", type: "function", function: { name: "b", arguments: "{}" } },
          ],
        },
        "tool_calls",
      ),
    );
    const starts = events.filter((e) => e.type === "content_block_start");
    expect(starts).toEqual([
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      { type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "t1", name: "a", input: {} } },
      { type: "content_block_start", index: 2, content_block: { type: "tool_use", id: "t2", name: "b", input: {} } },
    ]);
    expect(events).toContainEqual({ type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '{"x":1}' } });
    expect(events.filter((e) => e.type === "content_block_stop").map((e) => (e.type === "content_block_stop" ? e.index : -1))).toEqual([0, 1, 2]);
    expect(events.filter((e) => e.type === "ping")).toHaveLength(1);
    const delta = events.find((e) => e.type === "message_delta");
    expect(delta?.type === "message_delta" ? delta.delta.stop_reason : "").toBe("tool_use");
  });

  it("ends with an error event (and nothing after it) when the pipeline reports a failure mid-stream", () => {
    const s = new ChatToAnthropicStream("msg_1", "m", 0);
    const first = s.push(JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { content: "Hi" }, finish_reason: null }] }));
    expect(first.map((e) => e.type)).toEqual(["message_start", "content_block_start", "ping", "content_block_delta"]);
    const failed = s.push(JSON.stringify({ error: { message: "The provider timed out.", type: "timeout_error", param: null, code: "timeout" } }));
    expect(failed).toEqual([{ type: "error", error: { type: "timeout_error", message: "The provider timed out." } }]);
    expect(s.end()).toEqual([]);
    expect(s.finished).toBe(true);
  });

  it("still writes a whole message for an empty stream", () => {
    const s = new ChatToAnthropicStream("msg_1", "m", 3);
    expect(s.end().map((e) => e.type)).toEqual(["message_start", "message_delta", "message_stop"]);
  });

  it("frames each event as `event: <type>` then its data", () => {
    expect(sseFrame({ type: "ping" })).toBe('event: ping\ndata: {"type":"ping"}\n\n');
  });
});
