import { describe, expect, it } from "vitest";
import { validateResponsesRequest, type ResponsesRequest } from "./request-schema.ts";
import { inputItemsOf, itemsToMessages, toChatRequest } from "./to-chat.ts";

const req = (body: Record<string, unknown>): ResponsesRequest => {
  const r = validateResponsesRequest({ model: "auto", input: "x", ...body });
  if (!r.ok) throw r.error;
  return r.value;
};

describe("Responses → chat", () => {
  it("a string input is one user message; instructions come first as system", () => {
    const r = req({ input: "Hello", instructions: "Be kind." });
    expect(toChatRequest(r, itemsToMessages(inputItemsOf(r.input)), "auto").messages).toEqual([
      { role: "system", content: "Be kind." },
      { role: "user", content: "Hello" },
    ]);
  });

  it("parts, assistant text, function calls (merged into one turn) and their outputs", () => {
    const r = req({
      input: [
        { role: "user", content: [{ type: "input_text", text: "Look:" }, { type: "input_image", image_url: "https://x/img.png", detail: "high" }] },
        { type: "message", role: "assistant", content: [{ type: "output_text", text: "Checking.", annotations: [] }] },
        { type: "function_call", call_id: "c1", name: "a", arguments: '{"x":1}' },
        { type: "function_call", call_id: "c2", name: "b", arguments: "{}" },
        { type: "function_call_output", call_id: "c1", output: "one" },
        { type: "function_call_output", call_id: "c2", output: [{ type: "input_text", text: "two" }] },
        { type: "reasoning", summary: [] },
        { role: "developer", content: [{ type: "input_text", text: "Stay short." }] },
      ],
    });
    expect(itemsToMessages(inputItemsOf(r.input))).toEqual([
      { role: "user", content: [{ type: "text", text: "Look:" }, { type: "image_url", image_url: { url: "https://x/img.png", detail: "high" } }] },
      {
        role: "assistant",
        content: "Checking.",
        tool_calls: [
          { id: "c1", type: "function", function: { name: "a", arguments: '{"x":1}' } },
          { id: "c2", type: "function", function: { name: "b", arguments: "{}" } },
        ],
      },
      { role: "tool", tool_call_id: "c1", content: "one" },
      { role: "tool", tool_call_id: "c2", content: "two" },
      { role: "developer", content: "Stay short." },
    ]);
  });

  it("a function call with no assistant text before it is its own assistant turn", () => {
    const r = req({ input: [{ role: "user", content: "w?" }, { type: "function_call", call_id: "c", name: "f", arguments: "{}" }] });
    expect(itemsToMessages(inputItemsOf(r.input))[1]).toEqual({ role: "assistant", content: null, tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{}" } }] });
  });

  it("tools, tool_choice, text.format, max_output_tokens, sampling and stream map onto chat", () => {
    const r = req({
      tools: [{ type: "function", name: "f", description: "d", parameters: { type: "object" }, strict: true }],
      tool_choice: { type: "function", name: "f" },
      parallel_tool_calls: false,
      text: { format: { type: "json_schema", name: "s", schema: { type: "object" }, strict: true } },
      max_output_tokens: 99,
      temperature: 0.5,
      top_p: 0.9,
      user: "u1",
      stream: true,
    });
    expect(toChatRequest(r, [{ role: "user", content: "x" }], "gpt-4o")).toEqual({
      model: "gpt-4o",
      messages: [{ role: "user", content: "x" }],
      tools: [{ type: "function", function: { name: "f", description: "d", parameters: { type: "object" }, strict: true } }],
      tool_choice: { type: "function", function: { name: "f" } },
      parallel_tool_calls: false,
      response_format: { type: "json_schema", json_schema: { name: "s", schema: { type: "object" }, strict: true } },
      max_completion_tokens: 99,
      temperature: 0.5,
      top_p: 0.9,
      user: "u1",
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(toChatRequest(req({ text: { format: { type: "json_object" } } }), [], "auto").response_format).toEqual({ type: "json_object" });
    expect(toChatRequest(req({ text: { format: { type: "text" } } }), [], "auto").response_format).toBeUndefined();
    expect(toChatRequest(req({ tool_choice: "required" }), [], "auto").tool_choice).toBe("required");
  });

  it("an unresolved item_reference is a 400", () => {
    const r = req({ input: [{ type: "item_reference", id: "msg_x" }] });
    expect(() => itemsToMessages(inputItemsOf(r.input))).toThrow(/Item with id 'msg_x' not found/);
  });
});
