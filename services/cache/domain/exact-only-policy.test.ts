import { describe, expect, it } from "vitest";
import { defaultCacheConfig } from "./config.ts";
import { decidePolicy } from "./policy.ts";
import type { CacheRequest } from "./types.ts";

const req = (over: Partial<CacheRequest> = {}): CacheRequest => ({ tenant: "t", scope: "embeddings:m", messages: [], params: { input_sha256: "ab" }, category: "embeddings", cacheControl: "default", exactOnly: true, ...over });

describe("exact-only requests (embeddings)", () => {
  it("use the exact layer only, with the caller's TTL category, and none of the chat rules", () => {
    const p = decidePolicy(req({ params: { temperature: 2 } }), defaultCacheConfig);
    expect(p).toMatchObject({ lookupExact: true, lookupSemantic: false, store: true, storeSemantic: false, ttlMs: 7 * 24 * 3600 * 1000 });
  });

  it("honour cache control", () => {
    expect(decidePolicy(req({ cacheControl: "off" }), defaultCacheConfig).lookupExact).toBe(false);
    expect(decidePolicy(req({ cacheControl: "refresh" }), defaultCacheConfig)).toMatchObject({ lookupExact: false, store: true });
    expect(decidePolicy(req({ cacheControl: "no-store" }), defaultCacheConfig)).toMatchObject({ lookupExact: true, store: false });
  });

  it("are off when the category's TTL is 0 or the cache is disabled", () => {
    expect(decidePolicy(req({ category: "creative" }), defaultCacheConfig).store).toBe(false);
    expect(decidePolicy(req(), { ...defaultCacheConfig, enabled: false }).lookupExact).toBe(false);
  });
});
