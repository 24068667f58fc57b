import { describe, expect, it } from "vitest";
import { toAnthropicRequest } from "#services/provider-executor/providers/anthropic-request.ts";
import type { MessagesRequest } from "./request-schema.ts";
import { validateMessagesRequest } from "./request-schema.ts";
import { toChatRequest } from "./to-chat.ts";

const PNG = "iVBORw0KGgo=";

function parsed(body: unknown): MessagesRequest {
  const v = validateMessagesRequest(body);
  if (!v.ok) throw v.error;
  return v.value;
}

/** A Claude-Code-shaped conversation: system blocks with cache_control, a tool turn with an image result. */
const conversation = {
  model: "claude-sonnet-4-5",
  max_tokens: 512,
  system: [
    { type: "text", text: "You are a coding agent." },
    { type: "text", text: "Long project instructions.", cache_control: { type: "ephemeral" } },
  ],
  tools: [{ name: "Read", description: "Reads a file", input_schema: { type: "object", properties: { path: { type: "string" } } }, cache_control: { type: "ephemeral", ttl: "1h" } }],
  tool_choice: { type: "auto", disable_parallel_tool_use: true },
  messages: [
    { role: "user", content: [{ type: "text", text: "Look at this" }, { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } }] },
    { role: "assistant", content: [{ type: "thinking", thinking: "hmm", signature: "s" }, { type: "text", text: "Reading." }, { type: "tool_use", id: "toolu_1", name: "Read", input: { path: "a.ts" }, cache_control: { type: "ephemeral" } }] },
    {
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "file body" }, { type: "image", source: { type: "url", url: "https://example.com/s.png" } }], is_error: false },
        { type: "text", text: "Now fix it.", cache_control: { type: "ephemeral" } },
      ],
    },
  ],
  stop_sequences: ["END"],
  temperature: 0.3,
  top_p: 0.8,
  top_k: 20,
  metadata: { user_id: "session-9" },
  stream: true,
};

describe("toChatRequest", () => {
  it("maps system, content blocks, tools and sampling fields onto the pipeline's chat request", () => {
    const chat = toChatRequest(parsed(conversation), "claude-sonnet-4-5");
    expect(chat).toMatchObject({
      model: "claude-sonnet-4-5",
      max_tokens: 512,
      stream: true,
      stream_options: { include_usage: true },
      stop: ["END"],
      temperature: 0.3,
      top_p: 0.8,
      top_k: 20,
      user: "session-9",
      tool_choice: "auto",
      parallel_tool_calls: false,
    });
    expect(chat.messages).toEqual([
      { role: "system", content: [{ type: "text", text: "You are a coding agent." }, { type: "text", text: "Long project instructions.", cache_control: { type: "ephemeral" } }] },
      { role: "user", content: [{ type: "text", text: "Look at this" }, { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } }] },
      { role: "assistant", content: "Reading.", tool_calls: [{ id: "toolu_1", type: "function", function: { name: "Read", arguments: '{"path":"a.ts"}' }, cache_control: { type: "ephemeral" } }] },
      { role: "tool", tool_call_id: "toolu_1", content: [{ type: "text", text: "file body" }, { type: "image_url", image_url: { url: "https://example.com/s.png" } }] },
      { role: "user", content: [{ type: "text", text: "Now fix it.", cache_control: { type: "ephemeral" } }] },
    ]);
    expect(chat.tools).toEqual([{ type: "function", function: { name: "Read", description: "Reads a file", parameters: { type: "object", properties: { path: { type: "string" } } } }, cache_control: { type: "ephemeral", ttl: "1h" } }]);
  });

  it("survives the executor's Anthropic adapter: cache_control, images and tool turns arrive as the client sent them", () => {
    const req = parsed(conversation);
    const upstream = toAnthropicRequest(toChatRequest(req, "claude-sonnet-4-5"), "claude-sonnet-4-5-20250929", 1024);
    expect(upstream.system).toEqual(conversation.system);
    expect(upstream.tools).toEqual([{ name: "Read", description: "Reads a file", input_schema: conversation.tools[0]?.input_schema, cache_control: { type: "ephemeral", ttl: "1h" } }]);
    expect(upstream.tool_choice).toEqual({ type: "auto", disable_parallel_tool_use: true });
    expect(upstream).toMatchObject({ max_tokens: 512, stop_sequences: ["END"], temperature: 0.3, top_p: 0.8, top_k: 20, metadata: { user_id: "session-9" } });
    // The thinking block is dropped; everything else is the client's conversation, turn for turn.
    expect(upstream.messages).toEqual([
      conversation.messages[0],
      { role: "assistant", content: [{ type: "text", text: "Reading." }, { type: "tool_use", id: "toolu_1", name: "Read", input: { path: "a.ts" }, cache_control: { type: "ephemeral" } }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "file body" }, { type: "image", source: { type: "url", url: "https://example.com/s.png" } }] }, { type: "text", text: "Now fix it.", cache_control: { type: "ephemeral" } }] },
    ]);
  });

  it("keeps a breakpoint on an assistant's text through the executor's adapter", () => {
    const req = parsed({ model: "m", max_tokens: 5, messages: [{ role: "user", content: "hi" }, { role: "assistant", content: [{ type: "text", text: "Hello.", cache_control: { type: "ephemeral" } }] }, { role: "user", content: "go on" }] });
    const upstream = toAnthropicRequest(toChatRequest(req, "m"), "m", 10);
    expect(upstream.messages[1]).toEqual({ role: "assistant", content: [{ type: "text", text: "Hello.", cache_control: { type: "ephemeral" } }] });
  });

  it("maps every tool_choice", () => {
    const base = { model: "m", max_tokens: 5, messages: [{ role: "user", content: "hi" }], tools: conversation.tools };
    expect(toChatRequest(parsed({ ...base, tool_choice: { type: "any" } }), "m").tool_choice).toBe("required");
    expect(toChatRequest(parsed({ ...base, tool_choice: { type: "none" } }), "m").tool_choice).toBe("none");
    expect(toChatRequest(parsed({ ...base, tool_choice: { type: "tool", name: "Read" } }), "m").tool_choice).toEqual({ type: "function", function: { name: "Read" } });
    expect(toChatRequest(parsed(base), "m").tool_choice).toBeUndefined();
  });

  it("keeps a string system and string contents as strings, and an error result's flag", () => {
    const chat = toChatRequest(
      parsed({
        model: "m",
        max_tokens: 5,
        system: "Be brief.",
        messages: [
          { role: "user", content: "hi" },
          { role: "assistant", content: [{ type: "tool_use", id: "t", name: "f", input: {} }] },
          { role: "user", content: [{ type: "tool_result", tool_use_id: "t", content: "boom", is_error: true }] },
        ],
      }),
      "m",
    );
    expect(chat.stream).toBeUndefined();
    expect(chat.messages[0]).toEqual({ role: "system", content: "Be brief." });
    expect(chat.messages[1]).toEqual({ role: "user", content: "hi" });
    expect(chat.messages[3]).toEqual({ role: "tool", tool_call_id: "t", content: "boom", is_error: true });
  });
});
