import { describe, expect, it } from "vitest";
import { InProcessVectorIndex } from "../store/inprocess-vector-index.ts";
import { MemoryExactStore } from "../store/memory-exact-store.ts";
import { cacheConfigSchema, type CacheConfigInput } from "./config.ts";
import { CacheEngine } from "./engine.ts";
import { HashedNgramEmbedder } from "./hashed-embedder.ts";
import type { CachedAnswer, CacheRequest } from "./types.ts";

const embedder = new HashedNgramEmbedder();
const answer = (model = "gpt-x", createdAt = 1): CachedAnswer => ({ completionJson: "{}", model, createdAt });

function req(content: string, over: Partial<CacheRequest> = {}): CacheRequest {
  return { tenant: "acme", scope: "tier:cheap", messages: [{ role: "user", content }], params: { temperature: 0 }, category: "static_knowledge", cacheControl: "default", ...over };
}

function makeEngine(config: CacheConfigInput = {}, clock = { t: 1_000_000 }) {
  const exact = new MemoryExactStore({ now: () => clock.t });
  const vectors = new InProcessVectorIndex({ dim: embedder.dim, maxEntriesPerTenant: 100 });
  return { engine: new CacheEngine({ config: cacheConfigSchema.parse(config), exact, vectors, embedder, now: () => clock.t }), exact };
}

describe("CacheEngine privacy rules", () => {
  it("a request with personal data is neither stored nor looked up, and says which rule", async () => {
    const { engine, exact } = makeEngine();
    const r = req("Draft a reply to jane.doe@example.com about the invoice");
    expect(await engine.store(r, answer())).toEqual({ stored: false, reason: "private:email" });
    expect(exact.size()).toBe(0);
    expect(await engine.lookup(r)).toEqual({ hit: false, reason: "skip:private:email" });
  });

  it("checks earlier turns too", async () => {
    const { engine } = makeEngine();
    const r = req("and summarise it", { messages: [{ role: "user", content: "my card is 4111 1111 1111 1111" }, { role: "assistant", content: "ok" }, { role: "user", content: "and summarise it" }] });
    expect(await engine.lookup(r)).toEqual({ hit: false, reason: "skip:private:card" });
  });

  it("per-tenant regexes exclude only that tenant's matching requests", async () => {
    const { engine } = makeEngine({ privacy: { tenants: { acme: { patterns: ["codename\\s+\\w+"] } } } });
    expect(await engine.store(req("status of codename Falcon"), answer())).toEqual({ stored: false, reason: "private:pattern:0" });
    expect((await engine.store(req("status of codename Falcon", { tenant: "globex" }), answer())).stored).toBe(true);
    expect((await engine.lookup(req("status of codename Falcon", { tenant: "globex" }))).hit).toBe(true);
  });
});

describe("CacheEngine invalidation by model and age", () => {
  it("drops one model's answers, then answers older than an age; the rest keep hitting", async () => {
    const clock = { t: 1_000_000 };
    const { engine } = makeEngine({}, clock);
    await engine.store(req("What is the boiling point of water?"), answer("old-model", clock.t));
    await engine.store(req("Who wrote Hamlet?"), answer("new-model", clock.t));
    clock.t += 3_600_000;
    await engine.store(req("What is the speed of light?"), answer("new-model", clock.t));
    expect(await engine.invalidate({ tenant: "acme", model: "old-model" })).toBe(1);
    expect((await engine.lookup(req("What is the boiling point of water?"))).hit).toBe(false);
    expect((await engine.lookup(req("Who wrote Hamlet?"))).hit).toBe(true);
    expect(await engine.invalidate({ tenant: "acme", olderThanMs: 1_800_000 })).toBe(1);
    expect((await engine.lookup(req("Who wrote Hamlet?"))).hit).toBe(false);
    expect((await engine.lookup(req("What is the speed of light?"))).hit).toBe(true);
  });
});
