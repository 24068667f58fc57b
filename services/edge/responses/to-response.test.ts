import type OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { requestIdOf, responseIdOf, responseIdOfItem } from "./ids.ts";
import { validateResponsesRequest } from "./request-schema.ts";
import { outputOfCompletion, responseObject, responseUsage, type ResponseFrame } from "./to-response.ts";

const RID = "resp_0123456789abcdef0123456789abcdef";

function completion(message: Partial<OpenAI.Chat.ChatCompletionMessage>, finish: OpenAI.Chat.ChatCompletion.Choice["finish_reason"] = "stop"): OpenAI.Chat.ChatCompletion {
  return { id: "c", object: "chat.completion", created: 1, model: "gpt-4o-mini", choices: [{ index: 0, finish_reason: finish, logprobs: null, message: { role: "assistant", content: null, refusal: null, ...message } }] };
}

describe("chat → Responses", () => {
  it("text becomes one message item with an output_text part", () => {
    const o = outputOfCompletion(RID, completion({ content: "Paris." }));
    expect(o).toEqual({
      status: "completed",
      output: [{ id: "msg_0123456789abcdef0123456789abcdef_0", type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text: "Paris.", annotations: [], logprobs: [] }] }],
    });
  });

  it("tool calls become function_call items after any text", () => {
    const o = outputOfCompletion(RID, completion({ content: "Let me check.", tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] }, "tool_calls"));
    expect(o.output.map((i) => i.type)).toEqual(["message", "function_call"]);
    expect(o.output[1]).toEqual({ id: "fc_0123456789abcdef0123456789abcdef_1", type: "function_call", status: "completed", call_id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' });
  });

  it("a length stop is incomplete (max_output_tokens)", () => {
    const o = outputOfCompletion(RID, completion({ content: "Once upon" }, "length"));
    expect(o.status).toBe("incomplete");
    expect(o.incompleteReason).toBe("max_output_tokens");
  });

  it("usage in the Responses shape", () => {
    expect(responseUsage({ prompt_tokens: 100, completion_tokens: 20, total_tokens: 120, prompt_tokens_details: { cached_tokens: 64 }, completion_tokens_details: { reasoning_tokens: 5 } })).toEqual({
      input_tokens: 100,
      input_tokens_details: { cached_tokens: 64, cache_write_tokens: 0 },
      output_tokens: 20,
      output_tokens_details: { reasoning_tokens: 5 },
      total_tokens: 120,
    });
  });

  it("the Response object echoes the request's settings, with OpenAI's defaults", () => {
    const v = validateResponsesRequest({ model: "auto", input: "x", instructions: "Be brief.", tools: [{ type: "function", name: "f" }], metadata: { a: "b" } });
    if (!v.ok) throw v.error;
    const frame: ResponseFrame = { id: RID, createdAt: 1700000000, req: v.value, previousResponseId: null, store: true };
    const r = responseObject(frame, { status: "completed", model: "gpt-4o-mini", output: [] });
    expect(r).toMatchObject({
      id: RID,
      object: "response",
      created_at: 1700000000,
      status: "completed",
      error: null,
      incomplete_details: null,
      instructions: "Be brief.",
      max_output_tokens: null,
      metadata: { a: "b" },
      model: "gpt-4o-mini",
      parallel_tool_calls: true,
      previous_response_id: null,
      store: true,
      temperature: 1,
      top_p: 1,
      text: { format: { type: "text" } },
      tool_choice: "auto",
      tools: [{ type: "function", name: "f", description: null, parameters: null, strict: null }],
      truncation: "disabled",
    });
    expect(r).not.toHaveProperty("output_text");
  });

  it("ids: a response id is the request id; an item id names its response", () => {
    const rid = responseIdOf("01234567-89ab-cdef-0123-456789abcdef");
    expect(rid).toBe(RID);
    expect(requestIdOf(rid)).toBe("01234567-89ab-cdef-0123-456789abcdef");
    expect(requestIdOf("resp_other")).toBeUndefined();
    expect(responseIdOfItem("msg_0123456789abcdef0123456789abcdef_0")).toBe(RID);
    expect(responseIdOfItem("fc_0123456789abcdef0123456789abcdef_3")).toBe(RID);
    expect(responseIdOfItem("msg_abc")).toBeUndefined();
  });
});
