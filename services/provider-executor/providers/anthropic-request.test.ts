import { describe, expect, it } from "vitest";
import { GatewayError } from "#libs/errors/openai-error.ts";
import { toAnthropicRequest, toToolChoice } from "./anthropic-request.ts";
import type { ChatRequest } from "./types.ts";

const base = (over: Partial<ChatRequest>): ChatRequest => ({ model: "x", messages: [{ role: "user", content: "hi" }], ...over }) as ChatRequest;

describe("toAnthropicRequest", () => {
  it("moves system and developer messages to `system`, keeps turns, defaults max_tokens", () => {
    const r = toAnthropicRequest(
      base({
        messages: [
          { role: "system", content: "be brief" },
          { role: "developer", content: "no emojis" },
          { role: "user", content: "hello" },
          { role: "assistant", content: "hi!" },
          { role: "user", content: "again" },
        ],
      }),
      "claude-up",
      1234,
    );
    expect(r.model).toBe("claude-up");
    expect(r.max_tokens).toBe(1234);
    expect(r.system).toBe("be brief\n\nno emojis");
    expect(r.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "hello" }] },
      { role: "assistant", content: [{ type: "text", text: "hi!" }] },
      { role: "user", content: [{ type: "text", text: "again" }] },
    ]);
  });

  it.each([
    [{ max_tokens: 50 }, 50],
    [{ max_completion_tokens: 70, max_tokens: 50 }, 70],
    [{}, 999],
  ])("max tokens %j → %d", (over, want) => {
    expect(toAnthropicRequest(base(over), "m", 999).max_tokens).toBe(want);
  });

  it.each([
    [{ stop: "END" }, { stop_sequences: ["END"] }],
    [{ stop: ["a", "b"] }, { stop_sequences: ["a", "b"] }],
    [{ temperature: 1.7 }, { temperature: 1 }],
    [{ temperature: 0.3, top_p: 0.9 }, { temperature: 0.3, top_p: 0.9 }],
    [{ user: "u1" }, { metadata: { user_id: "u1" } }],
  ])("maps sampling params %j", (over, want) => {
    expect(toAnthropicRequest(base(over as Partial<ChatRequest>), "m", 10)).toMatchObject(want);
  });

  it("translates assistant tool_calls to tool_use and tool messages to merged tool_result blocks", () => {
    const r = toAnthropicRequest(
      base({
        messages: [
          { role: "user", content: "weather in Paris and Rome?" },
          {
            role: "assistant",
            content: null,
            tool_calls: [
              { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
              { id: "call_2", type: "function", function: { name: "get_weather", arguments: '{"city":"Rome"}' } },
            ],
          },
          { role: "tool", tool_call_id: "call_1", content: "sunny" },
          { role: "tool", tool_call_id: "call_2", content: [{ type: "text", text: "rainy" }] },
        ],
        tools: [{ type: "function", function: { name: "get_weather", description: "Weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }],
        tool_choice: "required",
        parallel_tool_calls: false,
      }),
      "m",
      10,
    );
    expect(r.messages[1]).toEqual({
      role: "assistant",
      content: [
        { type: "tool_use", id: "call_1", name: "get_weather", input: { city: "Paris" } },
        { type: "tool_use", id: "call_2", name: "get_weather", input: { city: "Rome" } },
      ],
    });
    expect(r.messages[2]).toEqual({
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: "call_1", content: "sunny" },
        { type: "tool_result", tool_use_id: "call_2", content: "rainy" },
      ],
    });
    expect(r.tools).toEqual([{ name: "get_weather", description: "Weather", input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } }]);
    expect(r.tool_choice).toEqual({ type: "any", disable_parallel_tool_use: true });
  });

  it("maps image parts: data URLs to base64, http URLs to url sources", () => {
    const r = toAnthropicRequest(
      base({
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "what is this?" },
              { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
              { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
            ],
          },
        ],
      }),
      "m",
      10,
    );
    expect(r.messages[0]?.content).toEqual([
      { type: "text", text: "what is this?" },
      { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
      { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
    ]);
  });

  it("passes cache_control from content parts and messages through", () => {
    const sys = { role: "system", content: [{ type: "text", text: "long policy", cache_control: { type: "ephemeral", ttl: "1h" } }] };
    const user = { role: "user", content: "question", cache_control: { type: "ephemeral" } };
    const r = toAnthropicRequest(base({ messages: [sys, user] as ChatRequest["messages"] }), "m", 10);
    expect(r.system).toEqual([{ type: "text", text: "long policy", cache_control: { type: "ephemeral", ttl: "1h" } }]);
    expect(r.messages[0]?.content).toEqual([{ type: "text", text: "question", cache_control: { type: "ephemeral" } }]);
  });

  it("carries the Anthropic-only fields of the gateway's Messages API: top_k, tool cache_control, is_error, images in tool results", () => {
    const png = "data:image/png;base64,iVBORw0KGgo=";
    const tool = { type: "function", function: { name: "read", parameters: { type: "object", properties: {} } }, cache_control: { type: "ephemeral" } };
    const messages = [
      { role: "user", content: "read it" },
      { role: "assistant", content: null, tool_calls: [{ id: "t1", type: "function", function: { name: "read", arguments: "{}" } }, { id: "t2", type: "function", function: { name: "read", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "t1", content: "no such file", is_error: true },
      { role: "tool", tool_call_id: "t2", content: [{ type: "text", text: "a screenshot:" }, { type: "image_url", image_url: { url: png } }] },
    ];
    const r = toAnthropicRequest(base({ messages, tools: [tool], top_k: 7 } as unknown as Partial<ChatRequest>), "m", 10);
    expect(r.top_k).toBe(7);
    expect(r.tools?.[0]).toMatchObject({ name: "read", cache_control: { type: "ephemeral" } });
    expect(r.messages[2]?.content).toEqual([
      { type: "tool_result", tool_use_id: "t1", content: "no such file", is_error: true },
      { type: "tool_result", tool_use_id: "t2", content: [{ type: "text", text: "a screenshot:" }, { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } }] },
    ]);
  });

  it.each([
    ["invalid tool arguments", base({ messages: [{ role: "assistant", content: null, tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{oops" } }] }] })],
    ["audio input", base({ messages: [{ role: "user", content: [{ type: "input_audio", input_audio: { data: "AAAA", format: "wav" } }] }] })],
    ["svg data url", base({ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:image/svg+xml;base64,AAAA" } }] }] })],
  ])("rejects %s with a 400", (_name, body) => {
    let err: unknown;
    try {
      toAnthropicRequest(body, "m", 10);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).status).toBe(400);
    expect((err as GatewayError).param).toMatch(/^messages\[0\]/);
  });
});

describe("toToolChoice", () => {
  it.each([
    [undefined, undefined, undefined],
    [undefined, false, { type: "auto", disable_parallel_tool_use: true }],
    ["none", undefined, { type: "none" }],
    ["auto", undefined, { type: "auto" }],
    ["required", undefined, { type: "any" }],
    [{ type: "function", function: { name: "f" } }, undefined, { type: "tool", name: "f" }],
    [{ type: "function", function: { name: "f" } }, false, { type: "tool", name: "f", disable_parallel_tool_use: true }],
  ] as const)("%j (parallel %s) → %j", (choice, parallel, want) => {
    expect(toToolChoice(choice, parallel)).toEqual(want);
  });
});
