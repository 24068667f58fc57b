// The versioned routing policy through the admin API, in both modes: applying a reviewed override
// changes routing for the next request without a restart, reverting restores it, any version can be
// made live again, and a bad policy is a 400 that changes nothing. A version can run as a canary on
// a share of sessions (sticky), its cost and shadow-measured quality reported beside the live one's,
// then be promoted.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODES, startGateway, testConfig, type Gateway } from "./harness.ts";

const HARD = "Implement a thread-safe LRU cache in TypeScript with generics, explain the complexity step by step, and prove it is correct.";

describe.each(MODES)("routing policy (%s)", (mode) => {
  let gw: Gateway;
  let client: OpenAI;
  let category = "";
  beforeAll(async () => {
    // Every canary downgrade is checked against the live model, so the report has evidence quickly.
    gw = await startGateway(mode, { config: testConfig((c) => { c.routing.canary.shadow_rate = 1; }) });
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

  it("a canary routes its share of sessions (sticky), reports cost and quality beside the live version, and is promoted", async () => {
    const noCanary = await admin("/v1/llmgw/policy/canary");
    expect(noCanary.status).toBe(404);
    expect((await admin("/v1/llmgw/policy/canary/promote", {})).status).toBe(400);
    expect((await admin("/v1/llmgw/policy", { overrides: [], canary_share: 1.5 })).status).toBe(400);

    const started = await admin("/v1/llmgw/policy", { reason: "trial", canary_share: 0.5, overrides: [{ category, tier: "HIGH", instead_of: "gpt-4o", use: "gpt-4o-mini" }] });
    expect(started.status).toBe(200);
    const st = (await started.json()) as { version: number; canary: { version: number; share: number } | null };
    expect(st.version).toBe(0);
    expect(st.canary?.share).toBe(0.5);
    const canaryVersion = st.canary?.version ?? -1;

    const askIn = async (session: string) => {
      const r = await client.chat.completions
        .create({ model: "auto", messages: [{ role: "user", content: HARD }] }, { headers: { "x-llmgw-cache": "off", "x-llmgw-session-id": session } })
        .withResponse();
      return { model: r.response.headers.get("x-llmgw-model"), reasons: r.response.headers.get("x-llmgw-route-reasons") ?? "" };
    };
    const bySession = new Map<string, string | null>();
    for (let i = 0; i < 24; i++) {
      const first = await askIn(`s-${i}`);
      bySession.set(`s-${i}`, first.model);
      if (first.model === "gpt-4o-mini") expect(first.reasons).toContain(`canary v${canaryVersion} override`);
      expect((await askIn(`s-${i}`)).model).toBe(first.model);
    }
    const models = [...bySession.values()];
    expect(models).toContain("gpt-4o");
    expect(models).toContain("gpt-4o-mini");

    type Report = { arms: { arm: string; version: number; requests: number; cost_per_request_usd: string | null; shadow: { direction: string; tests: number }[] }[]; canary_cost_per_request_vs_live: number | null };
    let report: Report | undefined;
    for (let i = 0; i < 100; i++) {
      const r = await admin("/v1/llmgw/policy/canary");
      expect(r.status).toBe(200);
      report = (await r.json()) as Report;
      const [live, canary] = report.arms;
      const ledgered = (live?.requests ?? 0) + (canary?.requests ?? 0) >= 48;
      if (ledgered && (canary?.shadow.find((x) => x.direction === "up")?.tests ?? 0) >= 1) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const [live, canary] = report?.arms ?? [];
    expect(live?.arm).toBe("live");
    expect(canary?.version).toBe(canaryVersion);
    expect((live?.requests ?? 0) + (canary?.requests ?? 0)).toBe(48);
    expect(canary?.requests).toBe(models.filter((m) => m === "gpt-4o-mini").length * 2);
    expect(canary?.shadow.find((x) => x.direction === "up")?.tests).toBeGreaterThanOrEqual(1);
    expect(report?.canary_cost_per_request_vs_live).toBeLessThan(1);

    const promoted = (await (await admin("/v1/llmgw/policy/canary/promote", { reason: "quality held" })).json()) as { version: number; canary: unknown };
    expect(promoted.version).toBe(canaryVersion);
    expect(promoted.canary).toBeNull();
    for (const s of ["s-0", "s-1", "s-2", "s-3"]) expect((await askIn(s)).model).toBe("gpt-4o-mini");
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
