import { describe, expect, it } from "vitest";
import { InProcessVectorIndex } from "../store/inprocess-vector-index.ts";
import { MemoryExactStore } from "../store/memory-exact-store.ts";
import { Registry } from "prom-client";
import { cacheConfigSchema } from "./config.ts";
import { economicsConfigSchema, SemanticEconomics } from "./economics.ts";
import { CacheEngine } from "./engine.ts";
import { HashedNgramEmbedder } from "./hashed-embedder.ts";
import { registerCacheMetrics } from "./metrics.ts";
import type { CacheRequest } from "./types.ts";

const cfg = (over: object = {}) => economicsConfigSchema.parse({ window: 100, minSamples: 50, breakEvenHitRate: 0.15, hysteresis: 0.2, probeShare: 0.1, ...over });

describe("SemanticEconomics", () => {
  it("switches a category off below break-even and back on above it, with hysteresis", () => {
    const changes: boolean[] = [];
    const e = new SemanticEconomics(cfg(), (x) => changes.push(x.semanticOn));
    for (let i = 0; i < 100; i++) e.record("support", i % 10 === 0, 2); // 10%: below 0.15 * 0.8 = 0.12
    expect(e.snapshot()[0]).toMatchObject({ category: "support", semanticOn: false, hitRate: 0.1, breakEvenHitRate: 0.15 });
    // 16%: above the off bar, not above the on bar (0.18): stays off.
    for (let i = 0; i < 100; i++) e.record("support", i % 25 < 4, 2);
    expect(e.snapshot()[0]?.semanticOn).toBe(false);
    for (let i = 0; i < 100; i++) e.record("support", i % 4 === 0, 2); // 25%
    expect(e.snapshot()[0]?.semanticOn).toBe(true);
    expect(changes).toEqual([false, true]);
  });

  it("decides nothing before minSamples, and categories are independent", () => {
    const e = new SemanticEconomics(cfg());
    for (let i = 0; i < 49; i++) e.record("code", false, 1);
    for (let i = 0; i < 60; i++) e.record("faq", true, 1);
    const snap = Object.fromEntries(e.snapshot().map((x) => [x.category, x.semanticOn]));
    expect(snap).toEqual({ code: true, faq: true });
  });

  it("while off, probes a share of lookups", () => {
    const e = new SemanticEconomics(cfg());
    for (let i = 0; i < 60; i++) e.record("x", false, 1);
    const probes = Array.from({ length: 100 }, () => e.shouldLookup("x")).filter(Boolean).length;
    expect(probes).toBe(10);
    expect(e.shouldLookup("other")).toBe(true);
  });

  it("derives break-even from the lookup's cost and the answer's price", () => {
    const e = new SemanticEconomics(economicsConfigSchema.parse({ embeddingCostUsd: 0.0001, latencyCostUsdPerMs: 0.0001, answerCostUsd: { default: 0.002, code: 0.01 } }));
    expect(e.breakEven("default", 2)).toBeCloseTo(0.15);
    expect(e.breakEven("code", 2)).toBeCloseTo(0.03);
  });
});

describe("CacheEngine per-category switch", () => {
  const embedder = new HashedNgramEmbedder();
  const req = (content: string, category: string): CacheRequest => ({ tenant: "t", scope: "s", messages: [{ role: "user", content }], params: { temperature: 0 }, category, cacheControl: "default" });

  it("turns the semantic layer off for a category that never hits, visible in metrics, and keeps others on", async () => {
    const registry = new Registry();
    const engine = new CacheEngine({
      config: cacheConfigSchema.parse({ economics: { window: 50, minSamples: 20, breakEvenHitRate: 0.15, probeShare: 0 } }),
      exact: new MemoryExactStore(),
      vectors: new InProcessVectorIndex({ dim: embedder.dim, maxEntriesPerTenant: 1000 }),
      embedder,
      metrics: registerCacheMetrics(registry),
    });
    await engine.store(req("How do I reset my password?", "static_knowledge"), { completionJson: "{}", model: "m", createdAt: 1 });
    for (let i = 0; i < 20; i++) {
      const r = await engine.lookup(req(`unrelated question number ${i} about ${"abcdefghijklmnopqrstuvwxyz"[i]} things`, "code"));
      expect(r.hit).toBe(false);
    }
    const off = await engine.lookup(req("a fresh code question", "code"));
    expect(off.hit ? "hit" : off.reason).toBe("semantic-off:economics");
    // Another category still looks up and hits.
    for (let i = 0; i < 25; i++) expect((await engine.lookup(req("how do i reset my password", "static_knowledge"))).hit).toBe(true);
    const snap = Object.fromEntries(engine.economicsSnapshot().map((e) => [e.category, e]));
    expect(snap["code"]).toMatchObject({ semanticOn: false, hitRate: 0 });
    expect(snap["static_knowledge"]).toMatchObject({ semanticOn: true, hitRate: 1 });
    const text = await registry.metrics();
    expect(text).toContain('llmgw_cache_semantic_enabled{category="code"} 0');
    expect(text).toContain('llmgw_cache_semantic_enabled{category="static_knowledge"} 1');
  });
});
