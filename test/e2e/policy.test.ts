// The versioned routing policy through the admin API, in both modes: applying a reviewed override
// changes routing for the next request without a restart, reverting restores it, any version can be
// made live again, and a bad policy is a 400 that changes nothing.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODES, startGateway, type Gateway } from "./harness.ts";

const HARD = "Implement a thread-safe LRU cache in TypeScript with generics, explain the complexity step by step, and prove it is correct.";

describe.each(MODES)("routing policy (%s)", (mode) => {
  let gw: Gateway;
  let client: OpenAI;
  let category = "";
  beforeAll(async () => {
    gw = await startGateway(mode);
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: await gw.createKey(`policy-${mode}`), maxRetries: 0 });
    category = (await gw.clients.classifier.classify({ messages: [{ role: "user", content: HARD }] })).category;
  });
  afterAll(() => gw.stop());

  const ask = async () => {
    const r = await client.chat.completions.create({ model: "auto", messages: [{ role: "user", content: HARD }] }, { headers: { "x-llmgw-cache": "off" } }).withResponse();
    return { model: r.response.headers.get("x-llmgw-model"), reasons: r.response.headers.get("x-llmgw-route-reasons") ?? "" };
  };
  const admin = (path: string, body?: unknown) =>
    fetch(`${gw.url}${path}`, { method: body === undefined ? "GET" : "POST", headers: { authorization: `Bearer ${gw.adminKey}`, "content-type": "application/json" }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

  it("apply, revert and re-apply take effect on the next request, with the live version shown", async () => {
    expect((await ask()).model).toBe("gpt-4o");

    const applied = await admin("/v1/llmgw/policy", { reason: "analysis 2026-11-30", overrides: [{ category, tier: "HIGH", instead_of: "gpt-4o", use: "gpt-4o-mini", reason: "shadow-tested" }] });
    expect(applied.status).toBe(200);
    const v = (await applied.json()) as { version: number; reason: string };
    expect(v.version).toBeGreaterThan(0);
    const after = await ask();
    expect(after.model).toBe("gpt-4o-mini");
    expect(after.reasons).toContain(`override ${category}/HIGH: gpt-4o -> gpt-4o-mini`);

    const reverted = await admin("/v1/llmgw/policy/revert", { version: 0, reason: "back to config" });
    expect(((await reverted.json()) as { version: number }).version).toBe(0);
    expect((await ask()).model).toBe("gpt-4o");

    await admin("/v1/llmgw/policy/revert", { version: v.version });
    expect((await ask()).model).toBe("gpt-4o-mini");
    const live = (await (await admin("/v1/llmgw/policy")).json()) as { version: number; history: { version: number; reason: string }[] };
    expect(live.version).toBe(v.version);
    expect(live.history.map((h) => h.reason)).toContain("analysis 2026-11-30");
    await admin("/v1/llmgw/policy/revert", { version: 0 });
  });

  it("a policy naming an unknown model is a 400 and changes nothing; an unknown version is a 404", async () => {
    const bad = await admin("/v1/llmgw/policy", { overrides: [{ category, tier: "HIGH", use: "no-such-model" }] });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain("no-such-model");
    expect((await admin("/v1/llmgw/policy/revert", { version: 999_999 })).status).toBe(404);
    expect((await ask()).model).toBe("gpt-4o");
  });
});
