// The cache's privacy rules, invalidation filters and per-category economics end to end (openai SDK →
// edge → cache service), embedded and mesh, with answers encrypted at rest (LLMGW_CACHE_MASTER_KEY).
import { randomBytes } from "node:crypto";
import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODES, startGateway, type Gateway } from "./harness.ts";
import { ask, askUntilHit, fresh, sdkClient, user } from "./support/requests.ts";

const tenant = (name: string) => `${name}-${randomBytes(4).toString("hex")}`;

describe.each(MODES)("cache privacy and admin (%s)", (mode) => {
  let gw: Gateway;
  let client: OpenAI;
  let tenantId: string;

  beforeAll(async () => {
    gw = await startGateway(mode, { env: { LLMGW_CACHE_MASTER_KEY: randomBytes(32).toString("hex") } });
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
    const body = (await res.json()) as { object: string; data: { category: string; semantic_on: boolean; break_even_hit_rate: number }[] };
    expect(body.object).toBe("list");
    expect(body.data.length).toBeGreaterThan(0);
    for (const c of body.data) {
      expect(typeof c.semantic_on).toBe("boolean");
      expect(c.break_even_hit_rate).toBeGreaterThan(0);
    }
    const tenantKey = await gw.createKey(tenant("t"));
    const denied = await fetch(`${gw.url}/v1/llmgw/cache/economics`, { headers: { authorization: `Bearer ${tenantKey}` } });
    expect(denied.status).toBe(403);
  });
});
