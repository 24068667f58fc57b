import { describe, expect, it } from "vitest";
import { validateResponsesRequest } from "./request-schema.ts";

const bad = (body: unknown) => {
  const r = validateResponsesRequest(body);
  if (r.ok) throw new Error("expected a refusal");
  return r.error.toBody().error;
};

describe("validateResponsesRequest", () => {
  it("takes a string, easy messages, typed items, function tools and a json_schema format", () => {
    const r = validateResponsesRequest({
      model: "auto",
      input: [
        { role: "developer", content: "Be brief." },
        { type: "message", role: "user", content: [{ type: "input_text", text: "Hi" }, { type: "input_image", image_url: "data:image/png;base64,AAAA", detail: "low" }] },
        { type: "function_call", call_id: "c1", name: "f", arguments: "{}" },
        { type: "function_call_output", call_id: "c1", output: "ok" },
        { type: "reasoning", id: "rs_1", summary: [] },
      ],
      tools: [{ type: "function", name: "f", parameters: { type: "object" }, strict: true }],
      tool_choice: { type: "function", name: "f" },
      text: { format: { type: "json_schema", name: "x", schema: { type: "object" } } },
      unknown_future_field: 1,
    });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value.input[0]).toMatchObject({ type: "message", role: "developer" });
    expect(validateResponsesRequest({ model: "gpt-4o-mini", input: "hello" }).ok).toBe(true);
  });

  it.each([
    ["not an object", [1], null],
    ["no input", { model: "auto" }, "input"],
    ["empty input list", { model: "auto", input: [] }, "input"],
    ["a bad role", { model: "auto", input: [{ role: "robot", content: "x" }] }, "input[0].role"],
    ["an unknown part", { model: "auto", input: [{ role: "user", content: [{ type: "input_file", file_id: "f" }] }] }, "input[0].content[0].type"],
    ["an image by file id", { model: "auto", input: [{ role: "user", content: [{ type: "input_image", file_id: "file_1" }] }] }, "input[0].content[0].image_url"],
    ["an unknown item type", { model: "auto", input: [{ type: "computer_call", id: "x" }] }, "input[0].type"],
    ["a hosted tool", { model: "auto", input: "x", tools: [{ type: "file_search" }] }, "tools[0].type"],
    ["a bad tool name", { model: "auto", input: "x", tools: [{ type: "function", name: "has space" }] }, "tools[0].name"],
    ["a bad tool_choice", { model: "auto", input: "x", tool_choice: "sometimes" }, "tool_choice"],
    ["background", { model: "auto", input: "x", background: true }, "background"],
    ["a conversation object", { model: "auto", input: "x", conversation: "conv_1" }, "conversation"],
    ["an unknown reasoning effort", { model: "o3-mini", input: "x", reasoning: { effort: "extreme" } }, "reasoning.effort"],
    ["too many metadata keys", { model: "auto", input: "x", metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"])) }, "metadata"],
  ])("%s → 400 naming %s", (_name, body, param) => {
    const e = bad(body);
    expect(e.type).toBe("invalid_request_error");
    expect(e.param).toBe(param);
    if (param) expect(e.message).toContain(`'${param}'`);
  });

  it("counts input items against the messages limit before reading them", () => {
    const items = Array.from({ length: 4 }, () => ({ role: "user", content: "x" }));
    expect(validateResponsesRequest({ model: "auto", input: items }, 4).ok).toBe(true);
    const r = validateResponsesRequest({ model: "auto", input: [...items, { bad: 1 }] }, 4);
    expect(r.ok ? undefined : r.error.toBody().error).toMatchObject({ param: "input", code: "too_many_messages" });
  });

  it("a missing input is a missing parameter, not an invalid value", () => {
    expect(bad({ model: "auto" })).toMatchObject({ param: "input", code: "missing_required_parameter", message: "Invalid request: 'input' is required." });
    expect(bad({ model: "auto", input: 5 })).toMatchObject({ param: "input", code: "invalid_value" });
  });

  it("says which values a discriminator takes", () => {
    expect(bad({ model: "auto", input: "x", text: { format: { type: "xml" } } }).message).toMatch(/text\.format\.type.*text, json_object, json_schema/);
  });
});
