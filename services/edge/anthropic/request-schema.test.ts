import { describe, expect, it } from "vitest";
import { validateCountTokensRequest, validateMessagesRequest } from "./request-schema.ts";

const ok = { model: "auto", max_tokens: 10, messages: [{ role: "user", content: "hi" }] };

function errorOf(body: unknown): { status: number; message: string; param: string | null } {
  const v = validateMessagesRequest(body);
  if (v.ok) throw new Error("expected a validation error");
  return { status: v.error.status, message: v.error.message, param: v.error.param };
}

describe("validateMessagesRequest", () => {
  it("accepts a minimal body and passes unknown fields through (thinking, service_tier...)", () => {
    const v = validateMessagesRequest({ ...ok, thinking: { type: "enabled", budget_tokens: 1024 }, service_tier: "auto" });
    expect(v.ok).toBe(true);
  });

  it.each([
    ["missing max_tokens", { model: "auto", messages: ok.messages }, "max_tokens", "max_tokens: Field required"],
    ["max_tokens 0", { ...ok, max_tokens: 0 }, "max_tokens", undefined],
    ["empty messages", { ...ok, messages: [] }, "messages", undefined],
    ["a system role in messages", { ...ok, messages: [{ role: "system", content: "x" }] }, "messages.0.role", undefined],
    ["an assistant first", { ...ok, messages: [{ role: "assistant", content: "x" }] }, "messages.0.role", undefined],
    ["an unknown block type", { ...ok, messages: [{ role: "user", content: [{ type: "video", url: "x" }] }] }, "messages.0.content.0.type", undefined],
    ["tool_use from the user", { ...ok, messages: [{ role: "user", content: [{ type: "tool_use", id: "t", name: "f", input: {} }] }] }, "messages.0.content.0.type", undefined],
    ["a bad image media type", { ...ok, messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/svg+xml", data: "x" } }] }] }, "messages.0.content.0.source.media_type", undefined],
    ["temperature above 1", { ...ok, temperature: 1.5 }, "temperature", undefined],
    ["a server tool", { ...ok, tools: [{ type: "web_search_20250305", name: "web_search" }] }, "tools.0.type", undefined],
    ["a tool without input_schema", { ...ok, tools: [{ name: "f" }] }, "tools.0.input_schema", undefined],
    ["a named tool_choice without a name", { ...ok, tool_choice: { type: "tool" } }, "tool_choice.name", undefined],
    ["a missing model", { max_tokens: 5, messages: ok.messages }, "model", "model: Field required"],
  ])("refuses %s with a 400 naming the field", (_name, body, param, message) => {
    const e = errorOf(body);
    expect(e.status).toBe(400);
    expect(e.param).toBe(param);
    if (message) expect(e.message).toBe(message);
    else expect(e.message.startsWith(`${param}: `)).toBe(true);
  });

  it("refuses a body that is not an object", () => {
    expect(errorOf([1, 2]).status).toBe(400);
    expect(errorOf(null).status).toBe(400);
  });
});

describe("validateCountTokensRequest", () => {
  it("takes the same body without max_tokens", () => {
    expect(validateCountTokensRequest({ model: "auto", messages: ok.messages }).ok).toBe(true);
    expect(validateCountTokensRequest({ model: "auto", messages: [] }).ok).toBe(false);
  });
});
