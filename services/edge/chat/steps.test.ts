import { describe, expect, it } from "vitest";
import { canonicalParams } from "./steps.ts";

type Body = Parameters<typeof canonicalParams>[0];

describe("canonicalParams", () => {
  it("keeps the answer-changing parameters only, null and undefined dropped, keys sorted at every level", () => {
    const body = {
      top_p: 0.5,
      model: "auto",
      messages: [{ role: "user", content: "x" }],
      stream: true,
      user: "u",
      temperature: null,
      seed: undefined,
      tools: [{ type: "function", function: { name: "f", parameters: { b: 1, a: 2 } } }],
      max_tokens: 10,
      logit_bias: { "9": 1, "1": 2 },
      metadata: { x: 1 },
    } as unknown as Body;
    expect(canonicalParams(body)).toBe('{"logit_bias":{"1":2,"9":1},"max_tokens":10,"tools":[{"function":{"name":"f","parameters":{"a":2,"b":1}},"type":"function"}],"top_p":0.5}');
  });

  it("does not depend on the body's key order", () => {
    const a = { model: "m", messages: [], stop: ["x"], n: 1, response_format: { type: "json_object" } } as unknown as Body;
    const b = { response_format: { type: "json_object" }, n: 1, messages: [], model: "m", stop: ["x"] } as unknown as Body;
    expect(canonicalParams(a)).toBe(canonicalParams(b));
    expect(canonicalParams({ model: "m", messages: [] } as unknown as Body)).toBe("{}");
  });
});
