import { describe, expect, it } from "vitest";
import { GatewayError } from "#libs/errors/openai-error.ts";
import { jsonDepth, parseJsonBody } from "./json-body.ts";

const limits = { json_depth: 8, string_chars: 100 };

function refusal(text: string): GatewayError {
  try {
    parseJsonBody(text, limits);
  } catch (e) {
    if (e instanceof GatewayError) return e;
    throw e;
  }
  throw new Error(`accepted: ${text.slice(0, 40)}`);
}

describe("parseJsonBody", () => {
  it("measures nesting on the raw text, skipping brackets inside strings", () => {
    expect(jsonDepth('{"a":[1,{"b":"[[[[{{{{"}]}', 100)).toBe(3);
    expect(jsonDepth('"\\"[[["', 100)).toBe(0);
    expect(jsonDepth("[".repeat(100_000), 64)).toBe(65);
  });

  it("refuses JSON nested past the limit before parsing (100,000 deep: no stack overflow)", () => {
    const e = refusal("[".repeat(100_000) + "]".repeat(100_000));
    expect(e.status).toBe(400);
    expect(e.code).toBe("json_too_deep");
    expect(e.message).toContain("edge.limits.json_depth");
    expect(parseJsonBody('{"a":[[[[1]]]]}', limits)).toEqual({ a: [[[[1]]]] });
  });

  it("names the field holding a NUL, a lone surrogate or a string over the limit", () => {
    expect(refusal('{"messages":[{"role":"user","content":"a\\u0000b"}]}').param).toBe("messages[0].content");
    expect(refusal('{"name":"x\\ud800y"}').param).toBe("name");
    expect(refusal('{"a":{"b":"\\udc00"}}').param).toBe("a.b");
    const long = refusal(`{"prompt":"${"z".repeat(101)}"}`);
    expect([long.param, long.code]).toEqual(["prompt", "string_too_long"]);
    expect(refusal('{"a":{"k\\u0000":1}}').param).toBe("a");
    expect(parseJsonBody('{"ok":"😀 é \\ud83d\\ude00"}', limits)).toEqual({ ok: "😀 é 😀" });
  });

  it("refuses prototype poisoning and malformed JSON as 400s", () => {
    expect(refusal('{"__proto__":{"admin":true}}').code).toBe("invalid_json");
    expect(refusal('{"constructor":{"prototype":{"x":1}}}').code).toBe("invalid_json");
    expect(refusal('{"a":').code).toBe("invalid_json");
  });
});
