// The SDK against a real embedded gateway (simulator providers), in both modes over the same gateway:
// remote over HTTP, in-process through the edge's inject. Answers with their gateway info, streams
// with their cost, embeddings, responses when the edge has them, typed admin calls, the openai error
// classes, AbortSignal and configurable retries.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type Gateway } from "../../test/e2e/harness.ts";
import { APIUserAbortError, AuthenticationError, BadRequestError, gatewayRequestId, NotFoundError, RateLimitError, remote, type LlmgwClient } from "./src/index.ts";
import { inProcess } from "./src/in-process.ts";
import type { InjectTarget } from "./src/inject-fetch.ts";

type Mode = "remote" | "in-process";
const MODES: readonly Mode[] = ["remote", "in-process"];

let gw: Gateway;
/** Calls that reached the edge, per mode (to count the SDK's retries). */
const calls: Record<Mode, number> = { remote: 0, "in-process": 0 };

beforeAll(async () => {
  gw = await startGateway("embedded");
}, 120_000);
afterAll(async () => {
  await gw?.stop();
});

async function client(mode: Mode, apiKey: string, maxRetries = 0): Promise<LlmgwClient> {
  if (mode === "remote") {
    const counting: typeof fetch = (input, init) => {
      calls.remote++;
      return fetch(input, init);
    };
    return remote({ baseURL: gw.url, apiKey, maxRetries, fetch: counting });
  }
  const app = gw.edge.app;
  const edge: InjectTarget = {
    inject: (opts) => {
      calls["in-process"]++;
      return app.inject(opts);
    },
  };
  return inProcess({ edge, apiKey, maxRetries });
}

describe.each(MODES)("SDK (%s)", (mode) => {
  let admin: LlmgwClient;
  let tenantKey: string;
  let sdk: LlmgwClient;

  beforeAll(async () => {
    admin = await client(mode, gw.adminKey);
    tenantKey = (await admin.admin.keys.create({ tenant_id: `sdk-${mode}-${Date.now()}`, name: "sdk test" })).key;
    sdk = await client(mode, tenantKey);
  });

  it("chat: the answer and the gateway's info (model, tier, cache, cost, baseline, savings, reasons)", async () => {
    const { completion, gateway } = await sdk.chat.create({ model: "auto", messages: [{ role: "user", content: "Give me one tip for writing clear emails." }] }, { headers: { "x-llmgw-cache": "off" } });
    expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(gateway.model).toBe(completion.model);
    expect(gateway.requestId).toMatch(/^[\da-f-]{36}$/);
    expect(gateway.tier).toMatch(/LOW|MEDIUM|HIGH|AGENTIC/);
    expect(gateway.cache).toBe("bypass");
    expect(Number(gateway.costUsd)).toBeGreaterThan(0);
    expect(Number(gateway.savingsUsd)).toBeCloseTo(Number(gateway.baselineUsd) - Number(gateway.costUsd), 12);
    expect(gateway.routeReasons.length).toBeGreaterThan(0);
    expect(gateway.overheadMs).toBeGreaterThanOrEqual(0);
  });

  it("a repeat is a cache hit that cost nothing", async () => {
    const params = { model: "auto", temperature: 0, messages: [{ role: "user" as const, content: `What is the capital of Italy? (${mode})` }] };
    await sdk.chat.create(params);
    let hit = "";
    for (let i = 0; i < 50 && hit !== "hit_exact"; i++) {
      const { gateway } = await sdk.chat.create(params);
      hit = gateway.cache ?? "";
      if (hit === "hit_exact") expect(gateway.costUsd).toBe("0");
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(hit).toBe("hit_exact");
  });

  it("chat stream: chunks one by one, and the cost from the last chunk once it has ended", async () => {
    const stream = await sdk.chat.stream({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Count from one to five in words." }] }, { headers: { "x-llmgw-cache": "off" } });
    expect(stream.gateway().costUsd).toBeNull();
    let chunks = 0;
    let text = "";
    for await (const c of stream) {
      chunks++;
      text += c.choices[0]?.delta.content ?? "";
    }
    expect(chunks).toBeGreaterThan(2);
    expect(text.length).toBeGreaterThan(0);
    const info = stream.gateway();
    expect(info.model).toBe("gpt-4o-mini");
    expect(Number(info.costUsd)).toBeGreaterThan(0);
    expect(info.baselineUsd).toBe(info.costUsd);
  });

  it("AbortSignal: a call aborted before its answer raises APIUserAbortError; a stream aborted mid-way stops", async () => {
    const before = new AbortController();
    before.abort();
    await expect(sdk.chat.create({ model: "auto", messages: [{ role: "user", content: "x" }] }, { signal: before.signal })).rejects.toBeInstanceOf(APIUserAbortError);

    const params = { model: "gpt-4o-mini", messages: [{ role: "user" as const, content: "Write a long essay on rivers. [sim:len=1000]" }] };
    let total = 0;
    for await (const _ of await sdk.chat.stream(params, { headers: { "x-llmgw-cache": "off" } })) total++;
    const abort = new AbortController();
    const stream = await sdk.chat.stream(params, { signal: abort.signal, headers: { "x-llmgw-cache": "off" } });
    let seen = 0;
    // The openai client ends an aborted stream quietly (or with the abort error): either way, no more chunks.
    await (async () => {
      for await (const _ of stream) if (++seen === 2) abort.abort();
    })().catch((e: unknown) => expect(e).toBeInstanceOf(APIUserAbortError));
    // Chunks already buffered may still arrive; the rest of the answer does not.
    expect(seen).toBeLessThan(total / 2);
    expect(stream.gateway().costUsd).toBeNull();
  });

  it("embeddings with their gateway info", async () => {
    const { embeddings, gateway } = await sdk.embeddings.create({ model: "text-embedding-3-small", input: [`sdk ${mode} one`, `sdk ${mode} two`] });
    expect(embeddings.data).toHaveLength(2);
    expect(embeddings.data[0]?.embedding).toHaveLength(1536);
    expect(gateway).toMatchObject({ model: "text-embedding-3-small", cache: "miss", tier: null });
    expect(Number(gateway.costUsd)).toBeGreaterThan(0);
  });

  it("responses: the Response and the gateway's info", async () => {
    const { response, gateway } = await sdk.responses.create({ model: "auto", instructions: "Be brief.", input: "Say hi." }, { headers: { "x-llmgw-cache": "off" } });
    expect(response.output_text.length).toBeGreaterThan(0);
    expect(gateway.model).toBe(response.model);
    expect(gateway.tier).toMatch(/LOW|MEDIUM|HIGH|AGENTIC/);
    expect(Number(gateway.costUsd)).toBeGreaterThan(0);
    const next = await sdk.responses.create({ model: "auto", previous_response_id: response.id, input: "Again, please." });
    expect(next.response.output_text.length).toBeGreaterThan(0);

    const stream = await sdk.responses.stream({ model: "gpt-4o-mini", input: "Name two colours." }, { headers: { "x-llmgw-cache": "off" } });
    let text = "";
    for await (const e of stream) if (e.type === "response.output_text.delta") text += e.delta;
    expect(text.length).toBeGreaterThan(0);
    expect(stream.gateway()).toMatchObject({ model: "gpt-4o-mini", costUsd: expect.any(String) });
    expect(stream.gateway().baselineUsd).toBe(stream.gateway().costUsd);
  });

  it("errors are the openai classes, with the gateway's request id", async () => {
    const bad = await sdk.chat.create({ model: "auto", messages: [] }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(BadRequestError);
    expect((bad as BadRequestError).param).toBe("messages");
    expect(gatewayRequestId(bad)).toMatch(/^[\da-f-]{36}$/);
    await expect(sdk.chat.create({ model: "no-such-model", messages: [{ role: "user", content: "x" }] })).rejects.toBeInstanceOf(NotFoundError);
    const wrong = await client(mode, "sk-not-a-gateway-key");
    await expect(wrong.chat.create({ model: "auto", messages: [{ role: "user", content: "x" }] })).rejects.toBeInstanceOf(AuthenticationError);
  });

  it("retries are configurable: a 429 is retried maxRetries times, then raised as RateLimitError", async () => {
    const tenant = `sdk-broke-${mode}-${Date.now()}`;
    await admin.admin.budgets.set({ tenant_id: tenant, period: "day", hard_limit_usd: "0.000000001" });
    const key = (await admin.admin.keys.create({ tenant_id: tenant })).key;
    const retrying = await client(mode, key, 2);
    const before = calls[mode];
    await expect(retrying.chat.create({ model: "auto", messages: [{ role: "user", content: "hello" }] })).rejects.toBeInstanceOf(RateLimitError);
    expect(calls[mode] - before).toBe(3);
    const once = calls[mode];
    await expect(retrying.chat.create({ model: "auto", messages: [{ role: "user", content: "hello" }] }, { maxRetries: 0 })).rejects.toBeInstanceOf(RateLimitError);
    expect(calls[mode] - once).toBe(1);
  }, 30_000);

  it("admin: keys, budgets, spend and savings, cache invalidation, shadow report, policy", async () => {
    const tenant = `sdk-admin-${mode}-${Date.now()}`;
    const created = await admin.admin.keys.create({ tenant_id: tenant, name: "ops" });
    expect(created).toMatchObject({ tenant_id: tenant, id: expect.any(String), key: expect.any(String) });
    const listed = await admin.admin.keys.list({ tenant_id: tenant });
    expect(listed.data).toEqual([expect.objectContaining({ id: created.id, tenant_id: tenant, name: "ops", admin: false, revoked: false })]);

    const budget = await admin.admin.budgets.set({ tenant_id: tenant, period: "month", soft_limit_usd: 5, hard_limit_usd: "10" });
    expect(budget).toEqual({ tenant_id: tenant, key_id: null, period: "month", soft_limit_usd: 5, hard_limit_usd: 10 });
    expect((await admin.admin.budgets.list({ tenant_id: tenant })).data).toEqual([budget]);

    const user = await client(mode, created.key);
    await user.chat.create({ model: "auto", messages: [{ role: "user", content: "Name a prime number." }] }, { headers: { "x-llmgw-cache": "off" } });
    let spend = await user.admin.spend({ since: "1h", group_by: "model" });
    for (let i = 0; i < 100 && spend.total.requests < 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
      spend = await user.admin.spend({ since: "1h", group_by: "model" });
    }
    expect(spend.tenant_id).toBe(tenant);
    expect(spend.total.requests).toBe(1);
    expect(spend.rows).toHaveLength(1);
    const savings = await user.admin.savings({ since: "1h" });
    expect(savings.cost_usd).toBe(spend.total.cost_usd);
    expect(savings.savings_usd).toBeCloseTo(savings.baseline_usd - savings.cost_usd, 12);
    expect(savings.savings_rate).toBeCloseTo(savings.baseline_usd > 0 ? savings.savings_usd / savings.baseline_usd : 0, 12);

    expect(await admin.admin.cache.invalidate({ tenant_id: tenant })).toEqual({ tenant_id: tenant, removed: expect.any(Number) });
    expect(await admin.admin.cache.quality({ since: "1d", tenant_id: tenant })).toEqual({ object: "list", tenant_id: tenant, since: expect.any(String), audit_rate: 0, data: [] });
    const shadow = await admin.admin.shadow.report({ tenant_id: tenant });
    expect(shadow).toEqual({ object: "list", tenant_id: tenant, data: [] });
    const policy = await admin.admin.policy.get();
    expect(policy.version).toBeGreaterThanOrEqual(0);

    // A tenant key cannot manage keys; a revoked key stops working.
    await expect(user.admin.keys.list()).rejects.toMatchObject({ status: 403 });
    expect(await admin.admin.keys.revoke(created.id)).toEqual({ id: created.id, revoked: true });
    await expect(user.chat.create({ model: "auto", messages: [{ role: "user", content: "x" }] })).rejects.toBeInstanceOf(AuthenticationError);
    await expect(admin.admin.keys.revoke(created.id)).rejects.toBeInstanceOf(NotFoundError);
  }, 60_000);
});
