import { describe, expect, it } from "vitest";
import { shadowExamples } from "./shadow-examples.ts";

const input = (content: string, role = "user") => ({ messages: [{ role, content }], has_tools: false, json_mode: false });

describe("shadow verdicts as training examples", () => {
  it("labels a request by the share of its cheaper candidates that failed", () => {
    const ex = shadowExamples([
      { requestId: "a", ok: true, input: input("hello") },
      { requestId: "b", ok: false, input: input("prove it") },
      { requestId: "c", ok: true, input: input("two") },
      { requestId: "c", ok: false, input: input("two") },
    ]);
    expect(ex.map((e) => [e.id, e.target])).toEqual([["shadow:a", 0], ["shadow:b", 1], ["shadow:c", 0.5]]);
    expect(ex[0]?.input).toEqual({ messages: [{ role: "user", content: "hello" }], hasTools: false, jsonMode: false });
  });

  it("maps unknown roles to user and skips prompts without text", () => {
    const ex = shadowExamples([
      { requestId: "a", ok: true, input: input("x", "function") },
      { requestId: "b", ok: true, input: { messages: [{ role: "user", content: "" }], has_tools: true, json_mode: false } },
    ]);
    expect(ex).toHaveLength(1);
    expect(ex[0]?.input.messages[0]?.role).toBe("user");
  });
});
