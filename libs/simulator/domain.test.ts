import { describe, expect, it } from "vitest";
import { buildAnswer, SIM_HEDGE_PHRASE } from "./answers.ts";
import { valueForSchema, hintsFrom } from "./json-schema-value.ts";
import { parseMarkers } from "./markers.ts";
import { anthropicCacheUsage, openaiCachedTokens, PrefixStore, type PromptSegment } from "./prompt-cache.ts";
import { getEncoder } from "./tokens.ts";
import { chooseTool } from "./tools.ts";

describe("answers", () => {
  it("piece count equals the real o200k token count, for every length and quality", () => {
    const enc = getEncoder();
    for (let s = 0; s < 150; s++) {
      for (const length of [1, 2, 3, 4, 5, 17, 64, 120]) {
        const a = buildAnswer({ promptHash: s * 104729 + length, modelId: "m", skill: s % 2 === 0 ? 0.9 : 0.3, difficulty: s % 3 === 0 ? 0.7 : 0, length, variant: s % 4 });
        expect(enc.encode(a.pieces.join("")).length).toBe(a.pieces.length);
      }
    }
  });

  it("weak models hedge on hard prompts; much weaker ones are cut short", () => {
    const base = { promptHash: 12345, modelId: "m", difficulty: 0.7, length: 80, variant: 0 };
    expect(buildAnswer({ ...base, skill: 0.9 }).pieces.join("")).not.toContain(SIM_HEDGE_PHRASE);
    const weak = buildAnswer({ ...base, skill: 0.6 });
    expect(weak.pieces.join("").startsWith(SIM_HEDGE_PHRASE)).toBe(true);
    expect(weak.truncatedByWeakness).toBe(false);
    expect(buildAnswer({ ...base, skill: 0.4 }).truncatedByWeakness).toBe(true);
  });
});

describe("markers", () => {
  it("parses every marker", () => {
    expect(parseMarkers("plain")).toMatchObject({ timeout: false, difficulty: 0 });
    const m = parseMarkers("[sim:429] [sim:len=12] [sim:slow=30] [sim:hard] [sim:truncate] [sim:refuse] [sim:timeout] [sim:tool=x]");
    expect(m).toEqual({ status: 429, length: 12, slowMs: 30, difficulty: 0.7, truncate: true, refuse: true, timeout: true, tool: "x" });
    expect(parseMarkers("[sim:difficulty=0.95]").difficulty).toBe(0.95);
    expect(parseMarkers("[sim:404]").status).toBeUndefined();
  });
});

describe("prompt cache", () => {
  const seg = (hash: number, tokens: number, breakpoint = false, ttlMs?: number): PromptSegment => ({ hash, tokens, ...(breakpoint ? { breakpoint } : {}), ...(ttlMs !== undefined ? { ttlMs } : {}) });

  it("OpenAI: longest seen prefix >= 1024 tokens, rounded down to 128-token blocks; expires", () => {
    let now = 0;
    const store = new PrefixStore(() => now);
    const a = [seg(1, 1500), seg(2, 50)];
    expect(openaiCachedTokens(store, "m", a, 1553)).toBe(0);
    expect(openaiCachedTokens(store, "m", [seg(1, 1500), seg(3, 70)], 1573)).toBe(1408);
    expect(openaiCachedTokens(store, "m", a, 1553)).toBe(1536); // whole prompt seen: 1550 -> 1536
    expect(openaiCachedTokens(store, "other", a, 1553)).toBe(0);
    now = 11 * 60_000;
    expect(openaiCachedTokens(store, "m", a, 1553)).toBe(0);
  });

  it("Anthropic: write to the last breakpoint, read the longest cached prefix, split 1h writes", () => {
    const store = new PrefixStore(() => 0);
    const req = [seg(1, 100, true, 3_600_000), seg(2, 200, true), seg(3, 30)];
    expect(anthropicCacheUsage(store, "m", req, 330)).toEqual({ inputTokens: 30, cacheCreationInputTokens: 300, cacheReadInputTokens: 0, creation5m: 200, creation1h: 100 });
    expect(anthropicCacheUsage(store, "m", req, 330)).toEqual({ inputTokens: 30, cacheCreationInputTokens: 0, cacheReadInputTokens: 300, creation5m: 0, creation1h: 0 });
    const changedTail = [seg(1, 100, true, 3_600_000), seg(9, 200, true), seg(3, 30)];
    expect(anthropicCacheUsage(store, "m", changedTail, 330)).toMatchObject({ cacheReadInputTokens: 100, cacheCreationInputTokens: 200, inputTokens: 30 });
    expect(anthropicCacheUsage(store, "m", [seg(1, 100), seg(2, 5)], 105)).toMatchObject({ inputTokens: 105, cacheReadInputTokens: 0 });
  });
});

describe("tools and schema values", () => {
  const tools = [
    { name: "get_weather", description: "Get the current weather for a city", schema: {} },
    { name: "searchFlights", description: "Find flights between airports", schema: {} },
  ];
  it("matches tools by name and description words", () => {
    expect(chooseTool(tools, { mode: "auto" }, "any flights to Rome?", false, undefined)?.name).toBe("searchFlights");
    expect(chooseTool(tools, { mode: "auto" }, "weather?", false, undefined)?.name).toBe("get_weather");
    expect(chooseTool(tools, { mode: "auto" }, "weather?", true, undefined)).toBeUndefined();
    expect(chooseTool(tools, { mode: "auto" }, "hello", false, undefined)).toBeUndefined();
    expect(chooseTool(tools, { mode: "required" }, "hello", false, undefined)?.name).toBe("get_weather");
    expect(chooseTool(tools, { mode: "none" }, "weather?", false, "get_weather")).toBeUndefined();
    expect(chooseTool(tools, { mode: "auto" }, "hello", false, "searchFlights")?.name).toBe("searchFlights");
  });

  it("builds values that satisfy nested schemas", () => {
    const schema = {
      type: "object",
      properties: {
        destination: { type: "string" },
        passengers: { type: "integer", minimum: 1, maximum: 9 },
        when: { type: "string", format: "date" },
        cabin: { enum: ["economy", "business"] },
        stops: { type: ["array", "null"], items: { type: "object", properties: { code: { type: "string", maxLength: 3 } } } },
        flexible: { anyOf: [{ type: "null" }, { type: "boolean" }] },
      },
    };
    expect(valueForSchema(schema, hintsFrom("Book 2 seats to New York please"))).toEqual({
      destination: "New York",
      passengers: 2,
      when: "2025-01-15",
      cabin: "economy",
      stops: [{ code: "exa" }],
      flexible: true,
    });
  });
});
