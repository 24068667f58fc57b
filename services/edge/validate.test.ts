import { describe, expect, it } from "vitest";
import { chatRequestSchema, fastParse, validateChatRequest } from "./validate.ts";

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

  it("rejects objects JSON.parse does not make (a Buffer from another parser is not walked key by key)", () => {
    const buffer = validateChatRequest(Buffer.from(JSON.stringify(ok)));
    expect(buffer.ok).toBe(false);
    if (!buffer.ok) expect(buffer.error.message).toBe("Request body must be a JSON object.");
    expect(validateChatRequest(new Uint8Array(4)).ok).toBe(false);
    expect(validateChatRequest(new Map()).ok).toBe(false);
    expect(validateChatRequest(Object.assign(Object.create(null) as object, ok)).ok).toBe(true);
  });
});

describe("fastParse (the hand-written path)", () => {
  // Values each field may take: valid ones, wrong types, edge numbers, undefined (a key present with no value).
  // Skewed towards the first values, which are the valid ones, so both paths get plenty of bodies.
  const pick = <T,>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * r() * r() * xs.length)] as T;
  const field: Record<string, readonly unknown[]> = {
    model: ["gpt-4o-mini", "", 5, null, undefined],
    stream: [true, false, "yes", null, undefined],
    stream_options: [{ include_usage: true }, { include_usage: "x" }, { include_usage: false, extra: 1 }, null, [], undefined],
    max_tokens: [1, 64, 0, -1, 1.5, null, "5", 1e400, undefined],
    max_completion_tokens: [10, 0, null, undefined],
    temperature: [0, -0, 0.5, 2, 2.0001, -0.1, null, "1", Number.NaN, undefined],
    top_p: [0, 1, 1.1, null, undefined],
    n: [1, 2, 0, null, 1.0, undefined],
    presence_penalty: [-2, 2, 3, null, undefined],
    frequency_penalty: [0, -2.5, null, undefined],
    stop: ["x", ["a", "b"], ["a", "b", "c", "d", "e"], [1], [], null, 7, undefined],
    tools: [[{ type: "function", function: { name: "f", parameters: {} }, z: 1 }], [{ type: "function" }], [{ type: "function", function: { name: "" } }], [{ type: 1 }], [null], null, {}, undefined],
    tool_choice: ["auto", { type: "function", function: { name: "f" } }, null, undefined],
    response_format: [{ type: "json_object" }, { type: "json_schema", json_schema: { name: "s" } }, { type: "xml" }, null, "json", undefined],
    user: ["u1", 1, null, undefined],
    seed: [1, -3, 1.5, null, undefined],
    logit_bias: [{ "1": 2 }, undefined],
    metadata: [{ a: "b" }, null, undefined],
    __proto__: [],
  };
  const messages: readonly unknown[] = [
    { role: "user", content: "hi" },
    { role: "system", content: "be brief", name: "sys" },
    { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" }, extra: true }] },
    { role: "assistant" },
    { role: "tool", content: "42", tool_call_id: "c1" },
    { role: "tool", content: "42", tool_call_id: "" },
    { role: "tool", content: "42" },
    { role: "user", content: [{ type: "text", text: "x" }, { type: "image_url", image_url: { url: "u" } }] },
    { role: "user", content: [{ type: "" }] },
    { role: "user", content: [{ text: "no type" }] },
    { role: "user", content: [] },
    { role: "user", content: 5 },
    { role: "user", content: null },
    { role: "user", content: "x", tool_calls: [{ id: "c", type: "function", function: { name: "f" } }] },
    { role: "user", content: "x", tool_calls: null },
    { role: "user", content: "x", name: 3 },
    { role: "wizard", content: "x" },
    { content: "x", role: "developer", zeta: 1, alpha: undefined },
    { role: "function", content: "x", name: "f" },
    { role: "user", content: "x", tool_call_id: undefined },
    "user: hi",
    null,
    [],
  ];

  // Deep equality that also compares key order and keys holding undefined.
  const same = (a: unknown, b: unknown): boolean => {
    if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) return Object.is(a, b);
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.join("\u0000") !== kb.join("\u0000")) return false;
    return ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  };

  it("accepts only what zod accepts, and returns what zod returns (key order included)", () => {
    let seed = 42;
    const r = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    let accepted = 0;
    let rejected = 0;
    for (let i = 0; i < 8_000; i++) {
      const body: Record<string, unknown> = {};
      // Random key order, random subset of fields, sometimes missing model or messages.
      const keys = Object.keys(field).filter((k) => k !== "__proto__" && r() < 0.3);
      if (r() < 0.95) keys.push("model");
      if (r() < 0.95) keys.push("messages");
      keys.sort(() => r() - 0.5);
      for (const k of keys) {
        if (k === "messages") {
          const n = r() < 0.05 ? 0 : 1 + Math.floor(r() * 3);
          body.messages = r() < 0.03 ? "hi" : Array.from({ length: n }, () => (r() < 0.6 ? messages[0] : pick(r, messages)));
        } else body[k] = pick(r, field[k] ?? [undefined]);
      }
      const fast = fastParse(body);
      const slow = chatRequestSchema.safeParse(body);
      if (fast) {
        accepted++;
        expect(slow.success, JSON.stringify(body)).toBe(true);
        expect(same(fast, slow.data), JSON.stringify(body)).toBe(true);
      } else if (!slow.success) rejected++;
    }
    expect(accepted).toBeGreaterThan(1500);
    expect(rejected).toBeGreaterThan(1500);
    // And no body zod accepts was left to zod: the fast path covers the schema (a looser schema would show here).
    expect(accepted + rejected).toBe(8_000);
  });

  it("copies what zod copies and passes unknown values through as they are", () => {
    const meta = { a: 1 };
    const body = { messages: [{ role: "user", content: "hi", x: meta }], model: "m", metadata: meta, stop: ["s"] };
    const out = fastParse(body) as Record<string, unknown> & { messages: Record<string, unknown>[]; stop: string[] };
    expect(Object.keys(out)).toEqual(["model", "messages", "stop", "metadata"]);
    expect(out.messages).not.toBe(body.messages);
    expect(out.messages[0]).not.toBe(body.messages[0]);
    expect(out.messages[0]?.x).toBe(meta);
    expect(out.metadata).toBe(meta);
    expect(out.stop).not.toBe(body.stop);
  });

  it("leaves bodies parsed with a __proto__ key to zod's rule (dropped)", () => {
    const body = JSON.parse('{"model":"m","messages":[{"role":"user","content":"x","__proto__":{"p":1}}],"__proto__":{"q":1}}') as unknown;
    const fast = fastParse(body);
    const slow = chatRequestSchema.safeParse(body);
    expect(slow.success).toBe(true);
    expect(same(fast, slow.data)).toBe(true);
  });
});

describe("fastParse coverage", () => {
  it.each([
    { model: "gpt-4o-mini", max_tokens: 64, messages: [{ role: "user", content: "In one sentence, what does an LLM gateway do?" }] },
    { model: "auto", stream: true, stream_options: { include_usage: true }, messages: [{ role: "system", content: "s" }, { role: "user", content: [{ type: "text", text: "x" }] }] },
    { model: "auto", tools: [{ type: "function", function: { name: "f", parameters: {} } }], tool_choice: "auto", messages: [{ role: "user", content: "x" }, { role: "assistant", content: null, tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{}" } }] }, { role: "tool", tool_call_id: "c", content: "1" }] },
    { model: "auto", response_format: { type: "json_object" }, temperature: 0.2, top_p: 1, n: 1, seed: 7, stop: ["\n"], user: "u", messages: [{ role: "user", content: "x" }] },
  ])("takes the common body %# without zod", (body) => {
    expect(fastParse(body)).toBeDefined();
  });
});
