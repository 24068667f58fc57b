import { describe, expect, it } from "vitest";
import { GatewayError } from "#libs/errors/openai-error.ts";
import { jsonDepth, parseJsonBody, parseJsonBodyYielding, parseSmallJsonBody, YIELD_BYTES } from "./json-body.ts";

const limits = { json_depth: 8, json_keys: 20, string_chars: 100 };

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

  it("refuses a body with more object keys than the limit, counted on the raw text (colons in strings do not count)", async () => {
    const keys = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}":"a:b"`).join(",")}}`;
    expect(Object.keys(parseJsonBody(keys(20), limits) as object)).toHaveLength(20);
    const e = refusal(keys(21));
    expect([e.status, e.code]).toEqual([400, "json_too_many_keys"]);
    expect(e.message).toContain("edge.limits.json_keys");
    // The large-body path checks it too.
    const big = `{"pad":"${"x".repeat(YIELD_BYTES)}",${keys(21).slice(1)}`;
    await expect(parseJsonBodyYielding(big, { ...limits, string_chars: YIELD_BYTES * 2 })).rejects.toMatchObject({ code: "json_too_many_keys" });
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

  it("names the first bad string depth-first, past clean strings, numbers and nulls before it", () => {
    expect(refusal(`[1,"ok",null,["x",{"deep":["${"z".repeat(101)}"]}]]`).param).toBe("[3][1].deep[0]");
    expect(refusal('{"a":"ok","b":[true,{"c":"x\\u0000"}],"d":"\\ud800"}').param).toBe("b[1].c");
    expect(refusal('[{"k":1},{"k\\ud800":1}]').param).toBe("[1]");
    expect(refusal('{"top\\u0000":"x"}').param).toBe(null);
    expect(parseJsonBody('{"a":["x",1,null,{"b":"y"}],"c":2}', limits)).toEqual({ a: ["x", 1, null, { b: "y" }], c: 2 });
  });

  it("refuses prototype poisoning and malformed JSON as 400s", () => {
    expect(refusal('{"__proto__":{"admin":true}}').code).toBe("invalid_json");
    expect(refusal('{"constructor":{"prototype":{"x":1}}}').code).toBe("invalid_json");
    expect(refusal('{"a":').code).toBe("invalid_json");
  });
});

describe("parseSmallJsonBody", () => {
  const wide = { json_depth: 8, json_keys: 1000, string_chars: 10 * YIELD_BYTES };
  it("parses as parseJsonBody does, empty as undefined, and refuses the same way", () => {
    const text = JSON.stringify({ model: "m", messages: [{ role: "user", content: "hé" }] });
    expect(parseSmallJsonBody(Buffer.from(text), wide)).toEqual(parseJsonBody(text, wide));
    expect(parseSmallJsonBody(Buffer.alloc(0), wide)).toBeUndefined();
    expect(() => parseSmallJsonBody(Buffer.from('{"a":'), wide)).toThrow(expect.objectContaining({ code: "invalid_json" }));
    expect(() => parseSmallJsonBody("[".repeat(500) + "]".repeat(500), wide)).toThrow(expect.objectContaining({ code: "json_too_deep" }));
  });
});

describe("parseJsonBodyYielding", () => {
  const wide = { json_depth: 8, json_keys: 1000, string_chars: 10 * YIELD_BYTES };
  const refusedWith = (p: Promise<unknown>) => p.then(() => "accepted", (e: unknown) => (e instanceof GatewayError ? e.code : String(e)));

  it("answers as parseJsonBody does, from a Buffer or a string", async () => {
    const big = JSON.stringify({ messages: [{ role: "user", content: "z".repeat(YIELD_BYTES) }] });
    for (const text of ['{"a":[1,2]}', big]) {
      expect(await parseJsonBodyYielding(Buffer.from(text), wide)).toEqual(parseJsonBody(text, wide));
      expect(await parseJsonBodyYielding(text, wide)).toEqual(parseJsonBody(text, wide));
    }
    expect(await parseJsonBodyYielding(Buffer.alloc(0), wide)).toBeUndefined();
    expect(await refusedWith(parseJsonBodyYielding(`${"[".repeat(9)}${" ".repeat(YIELD_BYTES)}${"]".repeat(9)}`, wide))).toBe("json_too_deep");
    expect(await refusedWith(parseJsonBodyYielding(Buffer.from(`{"a":"${"z".repeat(YIELD_BYTES)}`), wide))).toBe("invalid_json");
    expect(await refusedWith(parseJsonBodyYielding(Buffer.from(JSON.stringify({ a: "z".repeat(10 * YIELD_BYTES + 1) })), wide))).toBe("string_too_long");
  });

  it("lets other work run between its steps for a large body, not for a small one", async () => {
    const ranBetween = async (text: string): Promise<boolean> => {
      let ran = false;
      const parsed = parseJsonBodyYielding(Buffer.from(text), wide);
      setImmediate(() => (ran = true));
      await parsed;
      return ran;
    };
    expect(await ranBetween(JSON.stringify({ a: "z".repeat(YIELD_BYTES) }))).toBe(true);
    expect(await ranBetween('{"a":1}')).toBe(false);
  });
});
