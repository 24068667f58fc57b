// The dashboard in headless Chromium (Debian's chromium, driven by playwright-core): after a mixed
// load, every panel draws a chart with data, the page logs no console error, an admin sees every
// tenant, and a tenant key sees its own tenant only. Screenshots are kept under test-results/.
import { existsSync, mkdirSync } from "node:fs";
import OpenAI from "openai";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, testConfig, type Gateway } from "./harness.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = "test-results";
const HARD = "Implement a thread-safe LRU cache in TypeScript with generics, explain the complexity step by step, and prove it is correct.";
const PROMPTS = [
  "Hi! How are you today?",
  "What is the capital of France?",
  "Summarize in one line: the meeting moved to Tuesday because the room was booked.",
  "Translate 'good morning' into German.",
  "Write a haiku about autumn rain.",
  HARD,
  "Prove that the square root of 2 is irrational, step by step.",
];

interface Ledgered { total: { requests: number } }

describe.skipIf(!existsSync(CHROMIUM))("dashboard (embedded, headless Chromium)", () => {
  let gw: Gateway;
  let browser: Browser;
  let tenantKey = "";
  const perTenant = new Map<string, number>();

  beforeAll(async () => {
    gw = await startGateway("embedded", {
      config: testConfig((c) => {
        c.routing.shadow.sample_rate = 1;
        c.routing.shadow.tiers = ["HIGH"];
      }),
    });
    const keys = { acme: await gw.createKey("dash-acme"), globex: await gw.createKey("dash-globex") };
    tenantKey = keys.acme;
    const budget = await fetch(`${gw.url}/v1/llmgw/budgets`, {
      method: "PUT",
      headers: { authorization: `Bearer ${gw.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ tenant_id: "dash-acme", period: "day", soft_limit_usd: 0.5, hard_limit_usd: 1 }),
    });
    expect(budget.status).toBe(200);
    // Mixed load: several categories and tiers, repeats (cache hits), a provider error.
    for (const [tenant, key] of Object.entries(keys)) {
      const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
      let n = 0;
      for (let round = 0; round < 2; round++) {
        for (const content of PROMPTS) {
          await client.chat.completions.create({ model: "auto", messages: [{ role: "user", content }] });
          n++;
        }
      }
      await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "fail please [sim:500]" }] }).catch(() => undefined);
      n++;
      perTenant.set(`dash-${tenant}`, n);
    }
    const expected = [...perTenant.values()].reduce((a, b) => a + b, 0);
    for (let i = 0; i < 150; i++) {
      const r = (await (await fetch(`${gw.url}/v1/llmgw/spend?since=1h`, { headers: { authorization: `Bearer ${gw.adminKey}` } })).json()) as Ledgered;
      const shadow = (await (await fetch(`${gw.url}/v1/llmgw/dashboard?window=1h`, { headers: { authorization: `Bearer ${gw.adminKey}` } })).json()) as { shadow: { findings: unknown[] } };
      if (r.total.requests >= expected && shadow.shadow.findings.length > 0) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
  });

  const open = async (key: string, shot: string): Promise<{ page: Page; errors: string[] }> => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1800 } });
    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${gw.url}/dashboard#key=${encodeURIComponent(key)}`);
    await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
    await page.screenshot({ path: `${ARTIFACTS}/${shot}.png`, fullPage: true });
    return { page, errors };
  };

  it("an admin sees every panel drawn with data and no console error", async () => {
    const { page, errors } = await open(gw.adminKey, "dashboard-admin");
    const panels: { name: string | null; points: number; drawn: boolean }[] = [];
    for (const panel of await page.locator("article.panel:not(.hidden)").all()) {
      panels.push({
        name: await panel.getAttribute("data-panel"),
        points: Number((await panel.getAttribute("data-points")) ?? 0),
        drawn: Number((await panel.locator("canvas").getAttribute("width")) ?? 0) > 0,
      });
    }
    expect(panels.map((p) => p.name).sort()).toEqual(["breakers", "budgets", "cache", "escalation", "providers", "routing", "savings", "shadow", "spend"]);
    for (const p of panels) {
      expect(p.drawn, p.name ?? "panel").toBe(true);
      expect(p.points, `${p.name} has data`).toBeGreaterThan(0);
    }
    expect(await page.textContent("#kpi-hit")).toMatch(/%$/);
    expect(await page.textContent("#kpi-policy")).toMatch(/^v\d+/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("a tenant key sees its own tenant only, whatever it asks for", async () => {
    const { page, errors } = await open(tenantKey, "dashboard-tenant");
    expect(await page.getAttribute("body", "data-scope")).toBe("own tenant");
    expect(await page.getAttribute("body", "data-tenant")).toBe("dash-acme");
    expect(await page.isHidden('[data-panel="breakers"]')).toBe(true);
    expect(errors).toEqual([]);
    await page.close();

    const asked = await fetch(`${gw.url}/v1/llmgw/dashboard?window=1h&tenant_id=dash-globex`, { headers: { authorization: `Bearer ${tenantKey}` } });
    const body = (await asked.json()) as { tenant_id: string; spend: { total: { requests: number } }; budgets: { tenant_id: string }[]; shadow: { policy: unknown } };
    expect(body.tenant_id).toBe("dash-acme");
    expect(body.spend.total.requests).toBe(perTenant.get("dash-acme"));
    expect(body.budgets.every((b) => b.tenant_id === "dash-acme")).toBe(true);
    expect(body.shadow.policy).toBeNull();
  });

  it("a bad window is a 400 in the OpenAI shape and no key is a 401", async () => {
    const bad = await fetch(`${gw.url}/v1/llmgw/dashboard?window=forever`, { headers: { authorization: `Bearer ${gw.adminKey}` } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe("window");
    expect((await fetch(`${gw.url}/v1/llmgw/dashboard`)).status).toBe(401);
  });
});
