import { describe, expect, it } from "vitest";
import { cacheConfigSchema, defaultCacheConfig, thresholdFor, ttlMsFor } from "./config.ts";
import { canonicalJson, exactKey, semanticPartition } from "./keys.ts";
import { decidePolicy } from "./policy.ts";
import type { CacheRequest } from "./types.ts";

const emb = { name: "e", version: "1" };
const base: CacheRequest = {
  tenant: "t",
  scope: "m",
  messages: [{ role: "user", content: "Hello  world" }],
  params: { temperature: 0, response_format: { type: "text" } },
  category: "default",
  cacheControl: "default",
};

describe("keys", () => {
  it("canonical JSON sorts keys and drops undefined", () => {
    expect(canonicalJson({ b: 1, a: { d: undefined, c: [2, { y: 1, x: 0 }] } })).toBe('{"a":{"c":[2,{"x":0,"y":1}]},"b":1}');
  });
  it("exact key ignores whitespace and param order and transport params, not sampling params", () => {
    const k = exactKey(base, emb);
    expect(exactKey({ ...base, messages: [{ role: "user", content: " Hello world " }] }, emb)).toBe(k);
    expect(exactKey({ ...base, params: { response_format: { type: "text" }, temperature: 0, stream: true } }, emb)).toBe(k);
    expect(exactKey({ ...base, params: { ...base.params, temperature: 0.2 } }, emb)).not.toBe(k);
    expect(exactKey({ ...base, tenant: "u" }, emb)).not.toBe(k);
    expect(exactKey(base, { name: "e", version: "2" })).not.toBe(k);
  });
  it("semantic partition ignores the last user message and temperature, not the system prompt", () => {
    const p = semanticPartition(base, emb);
    expect(semanticPartition({ ...base, messages: [{ role: "user", content: "other" }], params: { ...base.params, temperature: 0.3 } }, emb)).toEqual(p);
    expect(semanticPartition({ ...base, messages: [{ role: "system", content: "x" }, ...base.messages] }, emb).key).not.toBe(p.key);
    expect(semanticPartition({ ...base, params: { ...base.params, response_format: { type: "json_object" } } }, emb).key).not.toBe(p.key);
  });
});

describe("policy", () => {
  it.each([
    [{ params: { tools: [] } }, "tools"],
    [{ params: { temperature: 0.71 } }, "temperature"],
    [{ category: "creative" }, "category:creative"],
    [{ cacheControl: "off" as const }, "cache-control:off"],
    [{ params: { n: 2 } }, "n>1"],
    [{ messages: [{ role: "assistant", content: "x" }] }, "last-message-not-user"],
  ])("%o is not cached (%s)", (over, reason) => {
    const d = decidePolicy({ ...base, ...over }, defaultCacheConfig);
    expect(d.store).toBe(false);
    expect(d.lookupExact).toBe(false);
    expect(d.reason).toBe(reason);
  });
  it("temperature at the bound and absent are cacheable by default", () => {
    expect(decidePolicy({ ...base, params: { temperature: 0.7 } }, defaultCacheConfig).store).toBe(true);
    expect(decidePolicy({ ...base, params: {} }, defaultCacheConfig).store).toBe(true);
    expect(decidePolicy({ ...base, params: {} }, cacheConfigSchema.parse({ cacheWhenTemperatureAbsent: false })).store).toBe(false);
  });
  it("exact-only multi-turn mode keeps the exact layer only", () => {
    const messages = [{ role: "user", content: "a" }, { role: "assistant", content: "b" }, { role: "user", content: "c" }];
    const d = decidePolicy({ ...base, messages }, cacheConfigSchema.parse({ multiTurn: "exact-only" }));
    expect(d).toMatchObject({ lookupExact: true, lookupSemantic: false, store: true, storeSemantic: false });
  });
});

describe("config", () => {
  it("has per-category thresholds and TTLs with fallbacks, and rejects unknown keys", () => {
    expect(thresholdFor(defaultCacheConfig, "nope")).toBe(thresholdFor(defaultCacheConfig, "default"));
    expect(ttlMsFor(defaultCacheConfig, "creative")).toBe(0);
    expect(ttlMsFor(defaultCacheConfig, "realtime")).toBeLessThanOrEqual(15 * 60_000);
    expect(() => cacheConfigSchema.parse({ bogus: 1 })).toThrow();
  });
});
