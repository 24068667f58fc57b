// The cache's privacy rules, invalidation filters, per-category economics and audited quality end to end
// (openai SDK → edge → cache service, evaluator), embedded and mesh, with answers encrypted at rest
// (LLMGW_CACHE_MASTER_KEY), every semantic hit audited (routing.shadow.cache_audit_rate 1) and a bound on
// the audited wrong-hit rate (cache.quality).
import { randomBytes } from "node:crypto";
import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODES, startGateway, testConfig, type Gateway } from "./harness.ts";
import { ask, askUntilHit, fresh, sdkClient, until, user } from "./support/requests.ts";
import type { CacheQuality } from "#libs/sdk/src/admin-types.ts";
import { fill, ORIGINAL, PARAPHRASE, semanticHit } from "./support/semantic.ts";

const tenant = (name: string) => `${name}-${randomBytes(4).toString("hex")}`;

describe.each(MODES)("cache privacy and admin (%s)", (mode) => {
  let gw: Gateway;
  let client: OpenAI;
  let tenantId: string;

  beforeAll(async () => {
    gw = await startGateway(mode, {
      env: { LLMGW_CACHE_MASTER_KEY: randomBytes(32).toString("hex") },
      config: testConfig((c) => {
        c.routing.shadow = { ...c.routing.shadow, cache_audit_rate: 1 };
        // A handful of audits can suspend a category here (the simulator answers a paraphrase with other
        // words, so its audit says wrong); read every 200 ms.
        c.cache = { ...c.cache, quality: { maxWrongHitRate: 0.05, minAudits: 1, refreshSeconds: 0.2 } };
      }),
    });
    tenantId = tenant("priv");
    client = sdkClient(gw.url, await gw.createKey(tenantId));
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
  });

  const admin = (path: string, init: RequestInit = {}) =>
    fetch(`${gw.url}${path}`, { ...init, headers: { authorization: `Bearer ${gw.adminKey}`, "content-type": "application/json", ...init.headers } });

  it("a prompt with an e-mail address bypasses the cache and says so; it is never served from it", async () => {
    const messages = user(fresh("Write a polite reminder to jane.doe@example.com about the unpaid invoice"));
    const first = await ask(client, { messages });
    expect(first.h("x-llmgw-cache")).toBe("bypass-private");
    expect(first.h("x-llmgw-cache-reason")).toBe("private:email");
    const again = await ask(client, { messages });
    expect(again.h("x-llmgw-cache")).toBe("bypass-private");
    expect(gw.sim.stats().requests).toBeGreaterThanOrEqual(2);
  });

  it("an API key in the prompt bypasses too", async () => {
    const a = await ask(client, { messages: user(fresh("Why does sk-proj-abcdefghijklmnopqrstuvwx12345 get a 401?")) });
    expect(a.h("x-llmgw-cache")).toBe("bypass-private");
    expect(a.h("x-llmgw-cache-reason")).toBe("private:api_key");
  });

  it("encrypted answers still hit, and invalidation by model drops them", async () => {
    const messages = user(fresh("What is the boiling point of water at sea level"));
    const first = await ask(client, { messages });
    expect(first.h("x-llmgw-cache")).toBe("miss");
    const hit = await askUntilHit(client, { messages }, { "cache-control": "no-store" });
    expect(hit?.h("x-llmgw-cache")).toBe("hit-exact");
    expect(hit?.content).toBe(first.content);
    const other = await admin("/v1/llmgw/cache/invalidate", { method: "POST", body: JSON.stringify({ tenant_id: tenantId, model: "no-such-model" }) });
    expect(await other.json()).toMatchObject({ removed: 0 });
    const res = await admin("/v1/llmgw/cache/invalidate", { method: "POST", body: JSON.stringify({ tenant_id: tenantId, model: first.data.model }) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { removed: number }).removed).toBeGreaterThanOrEqual(1);
    expect((await ask(client, { messages }, { "cache-control": "no-store" })).h("x-llmgw-cache")).toBe("miss");
  });

  it("invalidation by age keeps younger entries; bad filters are a 400 in OpenAI's shape", async () => {
    const messages = user(fresh("Name the largest planet in the solar system"));
    await ask(client, { messages });
    expect((await askUntilHit(client, { messages }, { "cache-control": "no-store" }))?.h("x-llmgw-cache")).toBe("hit-exact");
    const res = await admin("/v1/llmgw/cache/invalidate", { method: "POST", body: JSON.stringify({ tenant_id: tenantId, older_than: "1h" }) });
    expect(await res.json()).toMatchObject({ removed: 0 });
    expect((await ask(client, { messages }, { "cache-control": "no-store" })).h("x-llmgw-cache")).toBe("hit-exact");
    const bad = await admin("/v1/llmgw/cache/invalidate", { method: "POST", body: JSON.stringify({ tenant_id: tenantId, older_than: "soon" }) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { type: "invalid_request_error", param: "older_than" } });
  });

  it("GET /v1/llmgw/cache/economics lists categories for an admin, 403 for a tenant key", async () => {
    const res = await admin("/v1/llmgw/cache/economics");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { object: string; pooled: boolean; data: { category: string; semantic_on: boolean; break_even_hit_rate: number; quality_suspended: boolean }[] };
    expect(body.object).toBe("list");
    // The mesh's cache replicas pool their lookups in Redis; the embedded gateway has one replica.
    expect(body.pooled).toBe(mode === "mesh");
    expect(body.data.length).toBeGreaterThan(0);
    for (const c of body.data) {
      expect(typeof c.semantic_on).toBe("boolean");
      // Nothing audited yet: no category is suspended.
      expect(c.quality_suspended).toBe(false);
      expect(c.break_even_hit_rate).toBeGreaterThan(0);
    }
    const tenantKey = await gw.createKey(tenant("t"));
    const denied = await fetch(`${gw.url}/v1/llmgw/cache/economics`, { headers: { authorization: `Bearer ${tenantKey}` } });
    expect(denied.status).toBe(403);
  });

  const quality = async (query: string, key = gw.adminKey) => fetch(`${gw.url}/v1/llmgw/cache/quality${query}`, { headers: { authorization: `Bearer ${key}` } });

  it("GET /v1/llmgw/cache/quality: a semantic hit is replayed on its model and counted; past the bound its category stops serving semantic hits", async () => {
    const audited = tenant("audit");
    const key = await gw.createKey(audited);
    const client = sdkClient(gw.url, key);
    await fill(client, user(ORIGINAL));
    const { hit } = await semanticHit(client, ORIGINAL, PARAPHRASE);
    expect(hit?.h("x-llmgw-cache")).toBe("hit-semantic");
    // Four more semantic hits: five audits, each with its baseline (see below).
    for (let i = 0; i < 4; i++) expect((await ask(client, { messages: user(PARAPHRASE) }, { "cache-control": "no-store" })).h("x-llmgw-cache")).toBe("hit-semantic");

    // The audits run after the answers: poll until the evaluator has recorded all five.
    const list = await until(async () => {
      const body = (await (await quality(`?since=1h&tenant_id=${audited}`)).json()) as CacheQuality;
      return (body.data[0]?.audits ?? 0) >= 5 ? body : undefined;
    }, 150, 100);
    expect(list?.audit_rate).toBe(1);
    expect(list?.tenant_id).toBe(audited);
    // The exact repeats that filled the cache are not audited; every semantic hit is (rate 1).
    const row = list?.data[0];
    expect(row?.audits).toBeGreaterThanOrEqual(5);
    expect(row?.wrong_hits).toBeGreaterThanOrEqual(0);
    expect(row?.wrong_hits).toBeLessThanOrEqual(row?.audits ?? 0);
    expect(row?.wrong_hit_rate).toBeCloseTo((row?.wrong_hits ?? 0) / (row?.audits ?? 1), 9);
    expect(row?.wrong_hit_rate_low).toBeLessThanOrEqual(row?.wrong_hit_rate ?? 0);
    expect(row?.wrong_hit_rate_high).toBeGreaterThanOrEqual(row?.wrong_hit_rate ?? 1);

    // The simulator's fresh answer to the paraphrase is other words than the cached one: a wrong hit. Its
    // fresh answer to the cached question itself is the cached answer: every baseline fits. Five wrong
    // of five (Wilson low 0.57) less a clean baseline's high (0 of 5: 0.43) is over the 5% bound, so the
    // category's semantic layer is suspended (four of four would not be: 0.51 - 0.49).
    expect(row?.wrong_hits).toBe(row?.audits);
    expect(row?.baseline_audits).toBe(row?.audits);
    expect(row?.baseline_wrong).toBe(0);
    // Every audit is the same paraphrase at the same similarity: one cut, holding them all. No similarity
    // floor can leave a wrong hit out, so the bound suspends the category instead.
    expect(row?.by_similarity).toEqual([{ similarity_at_least: expect.any(Number), audits: row?.audits, wrong_hits: row?.audits, wrong_hit_rate_high: 1 }]);
    expect(row?.by_similarity[0]?.similarity_at_least).toBeGreaterThan(0.5);
    // Every hit came from one entry, refuted with a clean baseline: that entry is barred at its similarity.
    expect(row?.refuted_entries).toBe(1);
    const category = row?.category ?? "";
    const suspended = await until(async () => {
      const e = (await (await admin("/v1/llmgw/cache/economics")).json()) as { data: { category: string; quality_suspended: boolean; quality_floor: number }[] };
      return e.data.find((c) => c.category === category && c.quality_suspended);
    }, 100, 100);
    expect(suspended, `category ${category} never suspended`).toBeDefined();
    expect(suspended?.quality_floor).toBe(0);
    expect((await ask(client, { messages: user(PARAPHRASE) }, { "cache-control": "no-store" })).h("x-llmgw-cache")).toBe("miss");
    expect((await ask(client, { messages: user(ORIGINAL) }, { "cache-control": "no-store" })).h("x-llmgw-cache")).toBe("hit-exact");

    // A tenant key sees its own tenant's audits only, whatever it asks for.
    const other = await gw.createKey(tenant("other"));
    const own = (await (await quality(`?since=1h&tenant_id=${audited}`, other)).json()) as CacheQuality;
    expect(own.tenant_id).not.toBe(audited);
    expect(own.data).toEqual([]);
  });

  it("GET /v1/llmgw/cache/quality: a bad 'since' is a 400 in the OpenAI shape", async () => {
    const res = await quality("?since=soon");
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: "invalid_request_error", param: "since" } });
  });
});
