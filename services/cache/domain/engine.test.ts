import { randomUUID } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { afterAll, describe, expect, it } from "vitest";
import { InProcessVectorIndex } from "../store/inprocess-vector-index.ts";
import { MemoryExactStore } from "../store/memory-exact-store.ts";
import { RedisExactStore } from "../store/redis-exact-store.ts";
import { cacheConfigSchema, type CacheConfigInput } from "./config.ts";
import { CacheEngine } from "./engine.ts";
import { HashedNgramEmbedder } from "./hashed-embedder.ts";
import { registerCacheMetrics } from "./metrics.ts";
import type { CachedAnswer, CacheRequest } from "./types.ts";

const embedder = new HashedNgramEmbedder();
const answer = (text: string): CachedAnswer => ({ completionJson: JSON.stringify({ text }), model: "gpt-x", createdAt: 1 });

function req(content: string, over: Partial<CacheRequest> = {}): CacheRequest {
  return {
    tenant: "acme",
    scope: "tier:cheap",
    messages: [{ role: "user", content }],
    params: { temperature: 0 },
    category: "static_knowledge",
    cacheControl: "default",
    ...over,
  };
}

function makeEngine(config: CacheConfigInput = {}, now?: { t: number }) {
  const clock = now ? () => now.t : Date.now;
  const exact = new MemoryExactStore({ now: clock, maxEntriesPerTenant: 1000 });
  const vectors = new InProcessVectorIndex({ dim: embedder.dim, maxEntriesPerTenant: 1000 });
  const engine = new CacheEngine({ config: cacheConfigSchema.parse(config), exact, vectors, embedder, now: clock });
  return { engine, exact, vectors };
}

describe("CacheEngine layers", () => {
  it("exact hit reports similarity 1, semantic hit reports its similarity", async () => {
    const { engine } = makeEngine();
    expect(await engine.store(req("What is the capital of France?"), answer("Paris"))).toEqual({ stored: true });
    const exact = await engine.lookup(req("What is the capital of France?"));
    expect(exact).toMatchObject({ hit: true, layer: "exact", similarity: 1 });
    const sem = await engine.lookup(req("what's the capital of france"));
    expect(sem.hit).toBe(true);
    if (sem.hit) {
      expect(sem.layer).toBe("semantic");
      expect(sem.similarity).toBeGreaterThan(0.8);
      expect(sem.similarity).toBeLessThan(1);
      expect(sem.answer).toEqual(answer("Paris"));
    }
  });

  it("does not store an answer longer than maxAnswerChars", async () => {
    const { engine } = makeEngine({ maxAnswerChars: 100 });
    const long = { ...answer("x".repeat(200)) };
    expect(await engine.store(req("What is a very long answer?"), long)).toEqual({ stored: false, reason: "too-large" });
    expect((await engine.lookup(req("What is a very long answer?"))).hit).toBe(false);
  });

  it("a similarity a hair past 1 (int8 rows, rounding) is reported as 1", async () => {
    const { engine, vectors } = makeEngine();
    await engine.store(req("What is the capital of France?"), answer("Paris"));
    const search = vectors.search.bind(vectors);
    vectors.search = async (...args) => (await search(...args)).map((m) => ({ ...m, score: 1.0004 }));
    const sem = await engine.lookup(req("what's the capital of france"));
    expect(sem).toMatchObject({ hit: true, layer: "semantic", similarity: 1 });
  });

  it("a category whose audits broke the wrong-hit bound skips the semantic layer, still serves exact hits and keeps storing", async () => {
    const { engine } = makeEngine({ quality: { maxWrongHitRate: 0.05, minAudits: 30 } });
    await engine.store(req("What is the capital of France?"), answer("Paris"));
    expect((await engine.lookup(req("what's the capital of france"))).hit).toBe(true);
    engine.quality.update([{ category: "static_knowledge", audits: 40, wrong: 6, low: 0.071 }]);
    expect(await engine.lookup(req("what's the capital of france"))).toEqual({ hit: false, reason: "semantic-off:quality" });
    expect(await engine.lookup(req("What is the capital of France?"))).toMatchObject({ hit: true, layer: "exact" });
    // Other categories are not touched.
    await engine.store(req("What is the capital of Spain?", { category: "qa" }), answer("Madrid"));
    expect((await engine.lookup(req("what's the capital of spain", { category: "qa" }))).hit).toBe(true);
    expect(engine.economicsSnapshot().map((e) => [e.category, e.qualitySuspended])).toEqual([["qa", false], ["static_knowledge", true]]);
    // Stores go on, so the index is warm when the category resumes.
    expect(await engine.store(req("What is the capital of Italy?"), answer("Rome"))).toEqual({ stored: true });
    engine.quality.update([]);
    expect((await engine.lookup(req("what's the capital of italy"))).hit).toBe(true);
  });

  it("a similarity floor learned from audits refuses semantic hits below it and serves those above", async () => {
    const { engine } = makeEngine({ quality: { maxWrongHitRate: 0.05, minAudits: 30 } });
    await engine.store(req("What is the capital of France?"), answer("Paris"));
    const first = await engine.lookup(req("what's the capital of france"));
    expect(first.hit).toBe(true);
    const similarity = first.hit ? first.similarity : 0;
    // The audits were wrong too often overall, but not above a cut just over this hit's similarity.
    const audits = (floor: number) => [{ category: "static_knowledge", audits: 200, wrong: 22, low: 0.073, cuts: [{ similarity: 0.5, audits: 200, wrong: 22, high: 0.161 }, { similarity: floor, audits: 90, wrong: 0, high: 0.041 }] }];
    engine.quality.update(audits(Math.min(1, similarity + 0.001)));
    expect(await engine.lookup(req("what's the capital of france"))).toEqual({ hit: false, reason: "below-quality-floor", similarity });
    expect(await engine.lookup(req("What is the capital of France?"))).toMatchObject({ hit: true, layer: "exact" });
    expect(engine.economicsSnapshot()).toEqual([expect.objectContaining({ category: "static_knowledge", qualitySuspended: false, qualityFloor: Math.min(1, similarity + 0.001) })]);
    // A floor at or under the hit's similarity serves it.
    engine.quality.update(audits(similarity - 0.001));
    expect(await engine.lookup(req("what's the capital of france"))).toMatchObject({ hit: true, layer: "semantic", similarity });
  });

  it("an entry an audit refuted serves only above the refuted similarity, and a semantic hit names its entry", async () => {
    const { engine } = makeEngine({ quality: { maxWrongHitRate: 0.05, minAudits: 30 } });
    await engine.store(req("What is the capital of France?"), answer("Paris"));
    await engine.store(req("What is the capital of Spain?"), answer("Madrid"));
    const first = await engine.lookup(req("what's the capital of france"));
    if (!first.hit) throw new Error("expected a semantic hit");
    expect(first).toMatchObject({ layer: "semantic", entryId: expect.any(String) });
    const entryId = first.entryId as string;
    engine.quality.updateEntries([{ tenant: "acme", entryId, similarity: first.similarity }]);
    expect(await engine.lookup(req("what's the capital of france"))).toEqual({ hit: false, reason: "below-entry-floor", similarity: first.similarity });
    // Its exact hit, the other entry, and another tenant's entry for the same question are not barred.
    expect(await engine.lookup(req("What is the capital of France?"))).toMatchObject({ hit: true, layer: "exact" });
    expect(await engine.lookup(req("what's the capital of spain"))).toMatchObject({ hit: true, layer: "semantic" });
    await engine.store(req("What is the capital of France?", { tenant: "u" }), answer("Paris"));
    expect(await engine.lookup(req("what's the capital of france", { tenant: "u" }))).toMatchObject({ hit: true, layer: "semantic" });
    // Refuted only below this hit's similarity: it serves.
    engine.quality.updateEntries([{ tenant: "acme", entryId, similarity: first.similarity - 0.001 }]);
    expect(await engine.lookup(req("what's the capital of france"))).toMatchObject({ hit: true, layer: "semantic", similarity: first.similarity });
  });

  it("a suspended category no lookup reached is still listed", () => {
    const { engine } = makeEngine({ quality: { maxWrongHitRate: 0.05, minAudits: 1 } });
    engine.quality.update([{ category: "code", audits: 3, wrong: 3, low: 0.44 }]);
    expect(engine.economicsSnapshot()).toEqual([expect.objectContaining({ category: "code", semanticOn: true, lookups: 0, qualitySuspended: true })]);
  });

  it("tenant A never gets tenant B's entry", async () => {
    const { engine } = makeEngine();
    await engine.store(req("What is the capital of France?", { tenant: "B" }), answer("Paris"));
    expect((await engine.lookup(req("What is the capital of France?", { tenant: "A" }))).hit).toBe(false);
    expect((await engine.lookup(req("what is the capital of france", { tenant: "A" }))).hit).toBe(false);
  });

  it("different scope or system prompt → no hit", async () => {
    const { engine } = makeEngine();
    const sys = (s: string) => [{ role: "system", content: s }, { role: "user", content: "What is the capital of France?" }];
    await engine.store(req("", { messages: sys("Answer in French.") }), answer("Paris"));
    expect((await engine.lookup(req("", { messages: sys("Answer in French.") }))).hit).toBe(true);
    expect((await engine.lookup(req("", { messages: sys("Answer in German.") }))).hit).toBe(false);
    expect((await engine.lookup(req("", { messages: sys("Answer in French."), scope: "tier:strong" }))).hit).toBe(false);
  });

  it("multi-turn: identical earlier turns may hit semantically, a different earlier turn never", async () => {
    const { engine } = makeEngine();
    const convo = (first: string, last: string) => [
      { role: "user", content: first },
      { role: "assistant", content: "ok" },
      { role: "user", content: last },
    ];
    await engine.store(req("", { messages: convo("Let's talk about France.", "What is its capital city?") }), answer("Paris"));
    expect((await engine.lookup(req("", { messages: convo("Let's talk about France.", "what is its capital city") }))).hit).toBe(true);
    expect((await engine.lookup(req("", { messages: convo("Let's talk about Germany.", "What is its capital city?") }))).hit).toBe(false);
  });

  it("multi-turn mode off never caches conversations", async () => {
    const { engine } = makeEngine({ multiTurn: "off" });
    const messages = [{ role: "user", content: "hi" }, { role: "assistant", content: "hello" }, { role: "user", content: "capital of France?" }];
    expect(await engine.store(req("", { messages }), answer("Paris"))).toEqual({ stored: false, reason: "multi-turn" });
  });

  it("differs only in a number, entity or negation → miss (guard rejects even at a loose threshold)", async () => {
    const { engine } = makeEngine({ thresholds: { default: 0.3 } });
    await engine.store(req("How many calories are in 100 grams of rice?"), answer("130"));
    await engine.store(req("What is the capital of France?"), answer("Paris"));
    await engine.store(req("Which fruits have vitamin C?"), answer("oranges"));
    const n = await engine.lookup(req("How many calories are in 200 grams of rice?"));
    expect(n).toMatchObject({ hit: false, reason: "guard:numbers" });
    expect(n.similarity).toBeGreaterThan(0.3);
    expect(await engine.lookup(req("What is the capital of Germany?"))).toMatchObject({ hit: false, reason: "guard:entities" });
    expect(await engine.lookup(req("Which fruits have no vitamin C?"))).toMatchObject({ hit: false, reason: "guard:negation" });
  });

  it("never caches tools, hot temperature, creative, off; no-store looks up but does not store", async () => {
    const { engine } = makeEngine();
    expect((await engine.store(req("q", { params: { tools: [{ type: "function" }] } }), answer("a"))).reason).toBe("tools");
    expect((await engine.store(req("q", { params: { temperature: 0.9 } }), answer("a"))).reason).toBe("temperature");
    expect((await engine.store(req("q", { category: "creative" }), answer("a"))).reason).toBe("category:creative");
    expect((await engine.store(req("q", { cacheControl: "off" }), answer("a"))).reason).toBe("cache-control:off");
    expect((await engine.store(req("q", { cacheControl: "no-store" }), answer("a"))).stored).toBe(false);
    await engine.store(req("q"), answer("a"));
    expect((await engine.lookup(req("q", { cacheControl: "no-store" }))).hit).toBe(true);
    expect((await engine.lookup(req("q", { cacheControl: "off" }))).hit).toBe(false);
    const toolTurn = [{ role: "user", content: "q" }, { role: "tool", content: "{}" }, { role: "user", content: "q" }];
    expect((await engine.store(req("", { messages: toolTurn }), answer("a"))).reason).toBe("tool-messages");
  });

  it("refresh skips lookup and replaces the entry", async () => {
    const { engine } = makeEngine();
    await engine.store(req("What is the capital of France?"), answer("old"));
    expect(await engine.lookup(req("What is the capital of France?", { cacheControl: "refresh" }))).toMatchObject({ hit: false });
    await engine.store(req("What is the capital of France?", { cacheControl: "refresh" }), answer("new"));
    const hit = await engine.lookup(req("What is the capital of France?"));
    expect(hit.hit && hit.answer).toEqual(answer("new"));
  });

  it("TTL expiry per category on both layers", async () => {
    const clock = { t: 1_000_000 };
    const { engine } = makeEngine({ ttlSeconds: { default: 3600, realtime: 60 } }, clock);
    await engine.store(req("What is the BTC price now?", { category: "realtime" }), answer("1"));
    await engine.store(req("What is the capital of France?", { category: "history" }), answer("Paris"));
    clock.t += 59_000;
    expect((await engine.lookup(req("What is the BTC price now?", { category: "realtime" }))).hit).toBe(true);
    clock.t += 2_000;
    expect((await engine.lookup(req("What is the BTC price now?", { category: "realtime" }))).hit).toBe(false);
    expect((await engine.lookup(req("what's the BTC price now", { category: "realtime" }))).hit).toBe(false);
    expect((await engine.lookup(req("What is the capital of France?", { category: "history" }))).hit).toBe(true);
  });

  it("invalidation by namespace and by tenant", async () => {
    const { engine } = makeEngine();
    await engine.store(req("What is the capital of France?", { namespace: "geo" }), answer("Paris"));
    await engine.store(req("What is the capital of Italy?", { namespace: "geo2" }), answer("Rome"));
    await engine.store(req("What is the capital of France?", { tenant: "other" }), answer("Paris"));
    expect(await engine.invalidate({ tenant: "acme", namespace: "geo" })).toBe(1);
    expect((await engine.lookup(req("What is the capital of France?", { namespace: "geo" }))).hit).toBe(false);
    expect((await engine.lookup(req("What is the capital of Italy?", { namespace: "geo2" }))).hit).toBe(true);
    expect(await engine.invalidate({ tenant: "acme" })).toBe(1);
    expect((await engine.lookup(req("What is the capital of Italy?", { namespace: "geo2" }))).hit).toBe(false);
    expect((await engine.lookup(req("What is the capital of France?", { tenant: "other" }))).hit).toBe(true);
  });

  it("eviction: the tenant bound holds and evicted entries stop hitting", async () => {
    const exact = new MemoryExactStore({ maxEntriesPerTenant: 2 });
    const vectors = new InProcessVectorIndex({ dim: embedder.dim, maxEntriesPerTenant: 2 });
    const engine = new CacheEngine({ exact, vectors, embedder });
    for (const c of ["France", "Italy", "Spain"]) await engine.store(req(`What is the capital of ${c}?`), answer(c));
    expect(exact.size("acme")).toBe(2);
    expect(vectors.tenantSize("acme")).toBe(2);
    expect((await engine.lookup(req("What is the capital of France?"))).hit).toBe(false);
    expect((await engine.lookup(req("What is the capital of Spain?"))).hit).toBe(true);
  });

  it("embedder identity is part of the keys", async () => {
    const exact = new MemoryExactStore();
    const vectors = new InProcessVectorIndex({ dim: 512 });
    const e1 = new CacheEngine({ exact, vectors, embedder });
    const e2 = new CacheEngine({ exact, vectors, embedder: new HashedNgramEmbedder({ bigramWeight: 0.4 }) });
    await e1.store(req("What is the capital of France?"), answer("Paris"));
    expect((await e2.lookup(req("What is the capital of France?"))).hit).toBe(false);
  });
});

/** A TCP proxy that can stop forwarding (a hung Redis), listening on an ephemeral port. */
async function pausableProxy(targetPort: number): Promise<{ port: number; pause: () => void; close: () => Promise<void> }> {
  let paused = false;
  const sockets = new Set<Socket>();
  const { connect } = await import("node:net");
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, "127.0.0.1");
    sockets.add(client).add(upstream);
    client.on("data", (d) => {
      if (!paused) upstream.write(d);
    });
    upstream.on("data", (d) => {
      if (!paused) client.write(d);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    pause: () => {
      paused = true;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const address = s.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("CacheEngine best effort under a broken Redis", () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  it("unreachable Redis: lookup is a miss, store is skipped, failures are counted", async () => {
    const port = await closedPort();
    const redis = new Redis({ port, host: "127.0.0.1", enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => null });
    redis.on("error", () => undefined);
    cleanups.push(() => redis.disconnect());
    const registry = new Registry();
    const metrics = registerCacheMetrics(registry);
    const warnings: string[] = [];
    const engine = new CacheEngine({
      exact: new RedisExactStore(redis, `test:cache:${randomUUID()}`),
      vectors: new InProcessVectorIndex({ dim: embedder.dim }),
      embedder,
      metrics,
      logger: { warn: (_o, msg) => warnings.push(msg) },
    });
    const s = await engine.store(req("What is the capital of France?"), answer("Paris"));
    expect(s.stored).toBe(false);
    expect(s.reason).toMatch(/^failed:exact-store-(error|timeout)$/);
    for (let i = 0; i < 3; i++) expect((await engine.lookup(req("What is the capital of France?"))).hit).toBe(false);
    const failures = (await registry.getSingleMetric("llmgw_cache_store_failures_total")?.get())?.values ?? [];
    expect(failures.reduce((a, v) => a + v.value, 0)).toBe(4);
    expect(warnings).toHaveLength(1); // one log line per burst
  });

  it("hung Redis (paused proxy): lookup returns a miss via the budget timeout, store is skipped", async () => {
    const proxy = await pausableProxy(6379);
    cleanups.push(proxy.close);
    const redis = new Redis({ port: proxy.port, host: "127.0.0.1", maxRetriesPerRequest: 0, enableOfflineQueue: false });
    redis.on("error", () => undefined);
    cleanups.push(() => redis.disconnect());
    await new Promise<void>((r) => redis.once("ready", () => r()));
    const engine = new CacheEngine({
      config: cacheConfigSchema.parse({ storeBudgetMs: 30 }),
      exact: new RedisExactStore(redis, `test:cache:${randomUUID()}`),
      vectors: new InProcessVectorIndex({ dim: embedder.dim }),
      embedder,
    });
    expect((await engine.store(req("What is the capital of France?"), answer("Paris"))).stored).toBe(true);
    expect((await engine.lookup(req("What is the capital of France?"))).hit).toBe(true);
    proxy.pause();
    expect(await engine.lookup(req("What is the capital of France?"))).toEqual({ hit: false, reason: "exact-store-timeout" });
    expect(await engine.store(req("What is the capital of Spain?"), answer("Madrid"))).toEqual({ stored: false, reason: "failed:exact-store-timeout" });
  });
});

describe("CacheEngine length-aware thresholds", () => {
  const long1 =
    "You can install the Azure Blob Storage implementation by running the command conda install adlfs or pip install adlfs in your environment.";
  const long2 =
    "To install the Azure Blob Storage implementation, execute the command conda install adlfs or pip install adlfs within your environment.";
  it("a reworded long passage hits semantically at the long-text threshold", async () => {
    const { engine } = makeEngine();
    await engine.store(req(long1), answer("ok"));
    const r = await engine.lookup(req(long2));
    expect(r).toMatchObject({ hit: true, layer: "semantic" });
  });
  it("the same passage with a different version number misses", async () => {
    const { engine } = makeEngine();
    await engine.store(req(`${long1} Use version 2.10.`), answer("ok"));
    expect(await engine.lookup(req(`${long2} Use version 2.11.`))).toMatchObject({ hit: false, reason: "guard:numbers" });
  });
  it("short questions need near-identical content words", async () => {
    const { engine } = makeEngine();
    await engine.store(req("How do I learn Python quickly?"), answer("ok"));
    expect((await engine.lookup(req("how can I learn python quickly"))).hit).toBe(true);
    expect((await engine.lookup(req("How do I learn Python fast?"))).hit).toBe(false);
  });
});

describe("CacheEngine metrics", () => {
  it("registers on the given registry and counts hits, misses, guard rejections", async () => {
    const registry = new Registry();
    const metrics = registerCacheMetrics(registry);
    const engine = new CacheEngine({
      config: cacheConfigSchema.parse({ thresholds: { default: 0.3 } }),
      exact: new MemoryExactStore(),
      vectors: new InProcessVectorIndex({ dim: embedder.dim }),
      embedder,
      metrics,
    });
    await engine.store(req("What is the capital of France?", { category: "default" }), answer("Paris"));
    await engine.lookup(req("What is the capital of France?", { category: "default" }));
    await engine.lookup(req("What is the capital of Germany?", { category: "default" }));
    const text = await registry.metrics();
    expect(text).toMatch(/llmgw_cache_lookups_total\{layer="exact",result="hit"\} 1/);
    expect(text).toMatch(/llmgw_cache_lookups_total\{layer="none",result="miss"\} 1/);
    expect(text).toMatch(/llmgw_cache_guard_rejections_total\{check="entities"\} 1/);
    expect(text).toMatch(/llmgw_cache_stores_total\{result="stored"\} 1/);
  });
});
