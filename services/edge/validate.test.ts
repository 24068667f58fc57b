import { describe, expect, it } from "vitest";
import { validateChatRequest } from "./validate.ts";

const ok = { model: "auto", messages: [{ role: "user", content: "hi" }] };

describe("validateChatRequest", () => {
  it.each([
    [{ ...ok }, null],
    [{ messages: ok.messages }, "model"],
    [{ model: "auto" }, "messages"],
    [{ model: "auto", messages: [] }, "messages"],
    [{ model: "auto", messages: [{ role: "wizard", content: "x" }] }, "messages[0].role"],
    [{ model: "auto", messages: [{ role: "user" }] }, "messages[0].content"],
    [{ model: "auto", messages: [{ role: "tool", content: "x" }] }, "messages[0].tool_call_id"],
    [{ ...ok, temperature: 3 }, "temperature"],
    [{ ...ok, max_tokens: 0 }, "max_tokens"],
    [{ ...ok, stream: "yes" }, "stream"],
    [{ ...ok, response_format: { type: "xml" } }, "response_format.type"],
  ])("%j → param %s", (body, param) => {
    const r = validateChatRequest(body);
    if (param === null) expect(r.ok).toBe(true);
    else {
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error.status).toBe(400);
        expect(r.error.param).toBe(param);
        expect(r.error.message).toContain(param);
      }
    }
  });

  it("keeps unknown fields for the provider", () => {
    const r = validateChatRequest({ ...ok, logit_bias: { "1": 2 } });
    expect(r.ok && (r.value as unknown as Record<string, unknown>).logit_bias).toEqual({ "1": 2 });
  });

  it("rejects non-objects", () => {
    expect(validateChatRequest([1]).ok).toBe(false);
    expect(validateChatRequest("x").ok).toBe(false);
  });
});
