// Shadow tests through the embedded gateway: every HIGH request sampled, each replay's worst case
// reserved against a tiny daily cap. Under a burst, the evaluator stops replaying once the cap is
// reached (counted as capped), the spend it records stays within the cap, and the results are
// queryable from the evaluator; no shadow call is charged to the tenant's budget.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, testConfig, type Gateway } from "./harness.ts";

// gpt-4o-mini (the MEDIUM candidate) at $0.15/$0.60 per 1M. Every answer runs to max_tokens 200 (the
// simulator's length marker asks for more), so each replay really costs at least 200 × $0.60 / 1M =
// $0.00012 and a cap of $0.0004 admits at most 3 replays a day, however the replays interleave.
const CAP_USD = 0.0004;
const MAX_REPLAYS = 3;
const PROMPT = (i: number) => `Implement a thread-safe LRU cache in TypeScript with generics, explain the complexity step by step, and prove it is correct. (variant ${i}) [sim:len=400]`;

let gw: Gateway;
beforeAll(async () => {
  gw = await startGateway("embedded", {
    config: testConfig((c) => {
      c.routing.shadow = { ...c.routing.shadow, sample_rate: 1, tiers: ["HIGH"], candidates: 1, daily_cap_usd: CAP_USD, exclude_tenants: ["private"] };
    }),
  });
});
afterAll(() => gw.stop());

async function counter(outcome: string): Promise<number> {
  // /metrics on the edge's port opens to an admin key (or LLMGW_METRICS_TOKEN).
  const text = await (await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${gw.adminKey}` } })).text();
  const m = new RegExp(`llmgw_shadow_tests_total\\{[^}]*outcome="${outcome}"[^}]*\\} (\\d+)`).exec(text);
  return m ? Number(m[1]) : 0;
}

describe("shadow tests (embedded)", () => {
  it("a burst of HIGH requests is replayed until the daily cap, never past it", async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: await gw.createKey("shadow-burst"), maxRetries: 0 });
    const N = 12;
    const answers = await Promise.all(Array.from({ length: N }, (_, i) => client.chat.completions.create({ model: "auto", max_tokens: 200, messages: [{ role: "user", content: PROMPT(i) }] }, { headers: { "x-llmgw-cache": "off" } }).withResponse()));
    expect(answers.every((a) => a.response.headers.get("x-llmgw-tier") === "HIGH")).toBe(true);

    // Every request is handled by the evaluator one way or the other.
    const deadline = Date.now() + 20_000;
    let done = 0;
    while (Date.now() < deadline) {
      done = (await counter("pass")) + (await counter("fail")) + (await counter("capped"));
      if (done >= N) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(done).toBe(N);
    const replayed = (await counter("pass")) + (await counter("fail"));
    expect(replayed).toBeGreaterThan(0);
    expect(replayed).toBeLessThanOrEqual(MAX_REPLAYS);
    expect(await counter("capped")).toBe(N - replayed);

    const { findings } = await gw.clients.evaluator.getDowngradeReport({ tenantId: "shadow-burst" });
    expect(findings.reduce((s, f) => s + Number(f.samples), 0)).toBe(replayed);
    expect(findings.every((f) => f.fromModel !== f.toModel)).toBe(true);
  });

  it("an excluded tenant is never sampled", async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: await gw.createKey("private"), maxRetries: 0 });
    const r = await client.chat.completions.create({ model: "auto", messages: [{ role: "user", content: PROMPT(99) }] }, { headers: { "x-llmgw-cache": "off" } }).withResponse();
    expect(r.response.headers.get("x-llmgw-tier")).toBe("HIGH");
    expect(r.response.headers.get("x-llmgw-route-reasons") ?? "").not.toContain("shadow test");
  });
});
