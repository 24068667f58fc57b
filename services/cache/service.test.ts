// CacheService through Connect (in-process router transport): the real engine over the in-memory
// exact store, the in-process vector index and the hashed embedder; no mocks.
import { describe, expect, it } from "vitest";
import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { CacheControl, CacheService, type CacheKeySchema } from "#libs/gen/llmgw/cache/v1/cache_pb.ts";
import { cacheConfigSchema } from "./domain/config.ts";
import { CacheEngine } from "./domain/engine.ts";
import { HashedNgramEmbedder } from "./domain/hashed-embedder.ts";
import { InProcessVectorIndex } from "./store/inprocess-vector-index.ts";
import { MemoryExactStore } from "./store/memory-exact-store.ts";
import { CacheServiceImpl } from "./service.ts";

const embedder = new HashedNgramEmbedder();

/** A fresh cache per test: nothing leaks between cases. */
function cacheClient(engine = cacheEngine()): Client<typeof CacheService> {
  return createClient(CacheService, createRouterTransport((router) => router.service(CacheService, new CacheServiceImpl(engine))));
}

function cacheEngine(input: Record<string, unknown> = {}): CacheEngine {
  const config = cacheConfigSchema.parse(input);
  const exact = new MemoryExactStore({ maxEntriesPerTenant: 1000 });
  const vectors = new InProcessVectorIndex({ dim: embedder.dim, maxEntriesPerTenant: 1000 });
  return new CacheEngine({ config, exact, vectors, embedder });
}

type KeyInit = MessageInitShape<typeof CacheKeySchema>;
interface KeyPatch {
  context?: { requestId?: string; tenantId?: string; keyId?: string };
  scope?: string;
  paramsJson?: string;
  category?: string;
  control?: CacheControl;
}

function key(question: string, over: KeyPatch = {}): KeyInit {
  return {
    context: { requestId: "r1", tenantId: "acme", keyId: "k1" },
    scope: "LOW",
    messages: [{ role: "user", content: question }],
    paramsJson: JSON.stringify({ temperature: 0 }),
    category: "qa",
    control: CacheControl.DEFAULT,
    ...over,
  };
}

const completion = (text: string): string =>
  JSON.stringify({ id: "chatcmpl-1", object: "chat.completion", model: "gpt-4o-mini", choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }] });

async function rpcCode(p: Promise<unknown>): Promise<Code | "resolved"> {
  try {
    await p;
    return "resolved";
  } catch (e) {
    return ConnectError.from(e).code;
  }
}

describe("CacheService.Store + Lookup", () => {
  it("misses on an empty cache, then hits exactly what was stored", async () => {
    const client = cacheClient();
    const miss = await client.lookup({ key: key("What is the capital of France?") });
    expect(miss.hit).toBe(false);
    expect(miss.reason).toBe("semantic-miss");
    expect(miss.completionJson).toBe("");

    const stored = await client.store({ key: key("What is the capital of France?"), completionJson: completion("Paris."), model: "gpt-4o-mini" });
    expect(stored).toMatchObject({ stored: true, reason: "" });

    const hit = await client.lookup({ key: key("What is the capital of France?") });
    expect(hit).toMatchObject({ hit: true, layer: "exact", similarity: 1, model: "gpt-4o-mini", completionJson: completion("Paris.") });
  });

  it("answers a reworded question from the semantic layer with its similarity", async () => {
    const client = cacheClient();
    await client.store({ key: key("What is the capital of France?"), completionJson: completion("Paris."), model: "gpt-4o-mini" });
    const hit = await client.lookup({ key: key("what's the capital of france") });
    expect(hit.hit).toBe(true);
    expect(hit.layer).toBe("semantic");
    expect(hit.similarity).toBeGreaterThan(0.8);
    expect(hit.similarity).toBeLessThan(1);
    expect(hit.completionJson).toBe(completion("Paris."));
  });

  it("a different question is not served a cached answer", async () => {
    const client = cacheClient();
    await client.store({ key: key("What is the capital of France?"), completionJson: completion("Paris."), model: "gpt-4o-mini" });
    const r = await client.lookup({ key: key("What is the capital of Germany?") });
    expect(r.hit).toBe(false);
    expect(r.completionJson).toBe("");
  });

  it("never crosses tenants, scopes or sampling parameters", async () => {
    const client = cacheClient();
    await client.store({ key: key("What is the capital of France?"), completionJson: completion("Paris."), model: "gpt-4o-mini" });
    const otherTenant = await client.lookup({ key: key("What is the capital of France?", { context: { tenantId: "globex" } }) });
    expect(otherTenant.hit).toBe(false);
    const otherScope = await client.lookup({ key: key("What is the capital of France?", { scope: "HIGH" }) });
    expect(otherScope.hit).toBe(false);
    const otherParams = await client.lookup({ key: key("What is the capital of France?", { paramsJson: JSON.stringify({ temperature: 0, max_tokens: 5 }) }) });
    expect(otherParams.hit).toBe(false);
    // Same tenant, scope and params: still there.
    expect((await client.lookup({ key: key("What is the capital of France?") })).hit).toBe(true);
  });

  it("CACHE_CONTROL_OFF neither reads nor writes", async () => {
    const client = cacheClient();
    const s = await client.store({ key: key("What is 2 + 2?", { control: CacheControl.OFF }), completionJson: completion("4"), model: "m" });
    expect(s).toMatchObject({ stored: false, reason: "cache-control:off" });
    expect((await client.lookup({ key: key("What is 2 + 2?") })).hit).toBe(false);

    await client.store({ key: key("What is 2 + 2?"), completionJson: completion("4"), model: "m" });
    const off = await client.lookup({ key: key("What is 2 + 2?", { control: CacheControl.OFF }) });
    expect(off).toMatchObject({ hit: false, reason: "skip:cache-control:off" });
  });

  it("CACHE_CONTROL_REFRESH skips the read but writes the fresh answer", async () => {
    const client = cacheClient();
    await client.store({ key: key("What is 2 + 2?"), completionJson: completion("old"), model: "m" });
    const skipped = await client.lookup({ key: key("What is 2 + 2?", { control: CacheControl.REFRESH }) });
    expect(skipped).toMatchObject({ hit: false, reason: "skip:cache-control:refresh" });
    const s = await client.store({ key: key("What is 2 + 2?", { control: CacheControl.REFRESH }), completionJson: completion("new"), model: "m" });
    expect(s.stored).toBe(true);
    expect((await client.lookup({ key: key("What is 2 + 2?") })).completionJson).toBe(completion("new"));
  });

  it("CACHE_CONTROL_NO_STORE reads but never writes", async () => {
    const client = cacheClient();
    const s = await client.store({ key: key("What is 2 + 2?", { control: CacheControl.NO_STORE }), completionJson: completion("4"), model: "m" });
    expect(s).toMatchObject({ stored: false, reason: "cache-control:no-store" });
    expect((await client.lookup({ key: key("What is 2 + 2?") })).hit).toBe(false);
    await client.store({ key: key("What is 2 + 2?"), completionJson: completion("4"), model: "m" });
    expect((await client.lookup({ key: key("What is 2 + 2?", { control: CacheControl.NO_STORE }) })).hit).toBe(true);
  });

  it("bypasses tool calls, hot sampling and creative requests", async () => {
    const client = cacheClient();
    const tools = key("What's 2 + 2?", { paramsJson: JSON.stringify({ tools: [{ type: "function", function: { name: "calc" } }] }) });
    expect(await client.store({ key: tools, completionJson: completion("4"), model: "m" })).toMatchObject({ stored: false, reason: "tools" });
    expect(await client.lookup({ key: tools })).toMatchObject({ hit: false, reason: "skip:tools" });

    const hot = key("What's 2 + 2?", { paramsJson: JSON.stringify({ temperature: 1.5 }) });
    expect(await client.store({ key: hot, completionJson: completion("4"), model: "m" })).toMatchObject({ stored: false, reason: "temperature" });

    const poem = key("Write a poem about the sea", { category: "creative" });
    expect(await client.store({ key: poem, completionJson: completion("..."), model: "m" })).toMatchObject({ stored: false, reason: "category:creative" });
  });

  it("a request without a key is a bypass, not an error", async () => {
    const client = cacheClient();
    expect(await client.lookup({})).toMatchObject({ hit: false, reason: "skip:last-message-not-user" });
    expect(await client.store({ completionJson: completion("x"), model: "m" })).toMatchObject({ stored: false, reason: "last-message-not-user" });
  });

  it("rejects params_json that is not a JSON object as InvalidArgument", async () => {
    const client = cacheClient();
    for (const paramsJson of ["{not json", "[1,2]", "null", "42"]) {
      expect(await rpcCode(client.lookup({ key: key("What is 2 + 2?", { paramsJson }) }))).toBe(Code.InvalidArgument);
      expect(await rpcCode(client.store({ key: key("What is 2 + 2?", { paramsJson }), completionJson: completion("4"), model: "m" }))).toBe(Code.InvalidArgument);
    }
    // Nothing was written by the rejected stores.
    expect((await client.lookup({ key: key("What is 2 + 2?", { paramsJson: "" }) })).hit).toBe(false);
  });
});

describe("CacheService.Invalidate", () => {
  it("drops one namespace (scope) of one tenant, then the whole tenant", async () => {
    const client = cacheClient();
    await client.store({ key: key("What is the capital of France?", { scope: "LOW" }), completionJson: completion("Paris."), model: "m" });
    await client.store({ key: key("What is the capital of Spain?", { scope: "LOW" }), completionJson: completion("Madrid."), model: "m" });
    await client.store({ key: key("What is the capital of Italy?", { scope: "HIGH" }), completionJson: completion("Rome."), model: "m" });
    await client.store({ key: key("What is the capital of France?", { context: { tenantId: "globex" } }), completionJson: completion("Paris."), model: "m" });

    expect((await client.invalidate({ tenantId: "acme", namespace: "LOW" })).removed).toBe(2n);
    expect((await client.lookup({ key: key("What is the capital of France?", { scope: "LOW" }) })).hit).toBe(false);
    expect((await client.lookup({ key: key("What is the capital of Italy?", { scope: "HIGH" }) })).hit).toBe(true);

    expect((await client.invalidate({ tenantId: "acme" })).removed).toBe(1n);
    expect((await client.lookup({ key: key("What is the capital of Italy?", { scope: "HIGH" }) })).hit).toBe(false);
    // Another tenant's entries are untouched.
    expect((await client.lookup({ key: key("What is the capital of France?", { context: { tenantId: "globex" } }) })).hit).toBe(true);
    expect((await client.invalidate({ tenantId: "nobody" })).removed).toBe(0n);
  });

  it("rejects an empty tenant_id as InvalidArgument", async () => {
    const client = cacheClient();
    expect(await rpcCode(client.invalidate({ tenantId: "" }))).toBe(Code.InvalidArgument);
    expect(await rpcCode(client.invalidate({ tenantId: "", namespace: "LOW" }))).toBe(Code.InvalidArgument);
  });

  it("GetEconomics says which categories the audits suspended, and the lookup says why it missed", async () => {
    const engine = cacheEngine({ quality: { maxWrongHitRate: 0.05, minAudits: 30 } });
    const client = cacheClient(engine);
    await client.store({ key: key("What is the capital of France?"), completionJson: completion("Paris"), model: "gpt-4o-mini" });
    // The hit names the cache's category and the question the answer was cached for (normalised text).
    expect(await client.lookup({ key: key("what's the capital of france") })).toMatchObject({ hit: true, layer: "semantic", category: "static_knowledge", matchedQuestion: "What is the capital of France?" });
    // "qa" questions are the cache's static_knowledge category: the audits are recorded under it.
    engine.quality.update([{ category: "static_knowledge", audits: 40, wrong: 6, low: 0.071 }]);
    expect(await client.lookup({ key: key("what's the capital of france") })).toMatchObject({ hit: false, reason: "semantic-off:quality" });
    const { categories } = await client.getEconomics({});
    expect(categories.map((c) => [c.category, c.qualitySuspended, c.qualityFloor])).toEqual([["static_knowledge", true, 0]]);
    // Audits that clear the bound above a similarity set a floor instead.
    const floorAt = async (similarity: number) => {
      engine.quality.update([{ category: "static_knowledge", audits: 200, wrong: 22, low: 0.073, cuts: [{ similarity: 0.5, audits: 200, wrong: 22, high: 0.161 }, { similarity, audits: 90, wrong: 0, high: 0.041 }] }]);
      return client.lookup({ key: key("what's the capital of france") });
    };
    const served = await floorAt(0.6);
    expect(served).toMatchObject({ hit: true, layer: "semantic" });
    expect(served.similarity).toBeLessThan(1);
    expect(await floorAt(served.similarity + 1e-9)).toMatchObject({ hit: false, reason: "below-quality-floor" });
    expect((await client.getEconomics({})).categories.map((c) => [c.category, c.qualitySuspended, c.qualityFloor])).toEqual([["static_knowledge", false, served.similarity + 1e-9]]);
    // The hit names its entry; an audit that refuted a hit on it bars it at that similarity.
    expect(served.entryId).toMatch(/^[0-9a-f]{64}$/);
    engine.quality.update([]);
    engine.quality.updateEntries([{ tenant: "acme", entryId: served.entryId, similarity: served.similarity }]);
    expect(await client.lookup({ key: key("what's the capital of france") })).toMatchObject({ hit: false, reason: "below-entry-floor" });
  });
});
