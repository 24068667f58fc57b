// Mesh only: one request can be followed by its id through every service's logs and into the
// ledger's PostgreSQL rows; logs never carry the prompt, the answer or the key.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import pg from "pg";
import { capturingLogger, DATABASE_URL, startGateway, testConfig, type Gateway } from "./harness.ts";

// Services a routed, uncached, non-streaming request passes through (ledger: key check, budget, event).
const ON_PATH = ["edge", "classifier", "cache", "router", "executor", "ledger"] as const;
// Classified HIGH by the bundled classifier, so with routing.shadow.sample_rate 1 it is also shadow-tested.
const HIGH_PROMPT = "Prove rigorously that there are infinitely many prime numbers, then analyse the asymptotic density of primes and derive the prime number theorem sketch step by step.";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe("mesh observability", () => {
  const cap = capturingLogger("debug");
  let gw: Gateway;
  let client: OpenAI;
  let db: pg.Client;
  let schema: string;
  let apiKey: string;

  beforeAll(async () => {
    gw = await startGateway("mesh", { logger: cap.logger, config: testConfig((c) => (c.routing.shadow.sample_rate = 1)) });
    schema = gw.mesh?.ledgerSchema ?? "";
    apiKey = await gw.createKey("acme");
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0, timeout: 20_000 });
    db = new pg.Client({ connectionString: DATABASE_URL });
    await db.connect();
  }, 60_000);

  afterAll(async () => {
    await db?.end();
    await gw?.stop();
  });

  const linesFor = (id: string) => cap.lines().filter((l) => l.requestId === id || l.request_id === id);
  const requestRow = (id: string) =>
    poll(`ledger row ${id}`, async () => (await db.query<Record<string, unknown>>(`SELECT * FROM "${schema}".requests WHERE request_id = $1`, [id])).rows[0]);

  it("one request id appears in every service's log lines and in the ledger", async () => {
    const secret = `zebra-${randomUUID()}`;
    const traceId = randomUUID().replaceAll("-", "");
    const { data, response } = await client.chat.completions
      .create({ model: "auto", messages: [{ role: "user", content: `${HIGH_PROMPT} ${secret}` }] }, { headers: { traceparent: `00-${traceId}-${"1".repeat(16)}-01` } })
      .withResponse();
    const id = response.headers.get("x-llmgw-request-id") ?? "";
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const model = response.headers.get("x-llmgw-model");
    const tier = response.headers.get("x-llmgw-tier");
    const cost = response.headers.get("x-llmgw-cost-usd") ?? "";
    expect(tier, "the classifier no longer rates HIGH_PROMPT as HIGH: pick another prompt").toBe("HIGH");

    // The ledger row (written by the consumer of the JetStream event).
    const row = await requestRow(id);
    expect(row.tenant_id).toBe("acme");
    expect(row.trace_id).toBe(traceId);
    expect(row.model).toBe(model);
    expect(row.requested_model).toBe("auto");
    expect(String(row.tier).toUpperCase()).toBe(tier);
    expect(Number(row.cost_usd)).toBeGreaterThan(0);
    expect(Number(row.cost_usd)).toBeCloseTo(Number(cost), 9);
    expect(Number(row.input_tokens)).toBe(data.usage?.prompt_tokens);
    expect(Number(row.output_tokens)).toBe(data.usage?.completion_tokens);
    expect(Number(row.http_status)).toBe(200);

    const calls = (await db.query<{ kind: string; model: string; status: string; billed: boolean; cost_usd: string | null }>(`SELECT kind, model, status, billed, cost_usd FROM "${schema}".calls WHERE request_id = $1 ORDER BY id`, [id])).rows;
    const billed = calls.filter((c) => c.billed);
    expect(billed.length).toBeGreaterThanOrEqual(1);
    expect(billed.at(-1)?.model).toBe(model);
    expect(billed.every((c) => c.cost_usd !== null && Number(c.cost_usd) > 0)).toBe(true);

    // Every service on the hot path logged this request under its id.
    const lines = linesFor(id);
    const services = new Set(lines.map((l) => String(l.service)));
    for (const s of ON_PATH) expect(services, `no log line from '${s}' carries the request id`).toContain(s);
    expect(lines.find((l) => l.service === "edge" && l.status === 200)).toBeTruthy();

    // HIGH and sampled (rate 1): the evaluator replays it on the executor under the same id.
    await poll("shadow execution", async () => (linesFor(id).filter((l) => l.service === "executor" && l.rpc === "Execute").length >= 2 ? true : undefined));

    // Redaction: neither the prompt, nor the answer, nor the key reach the logs.
    const all = JSON.stringify(cap.lines());
    expect(all).not.toContain(secret);
    expect(all).not.toContain(apiKey);
    const answer = data.choices[0]?.message.content ?? "";
    if (answer.length > 40) expect(all).not.toContain(answer);
  });

  it("a streamed request is followed the same way", async () => {
    const { data, response } = await client.chat.completions
      .create({ model: "gpt-4o-mini", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: `Stream me a sentence ${randomUUID()}` }] })
      .withResponse();
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const c of data) chunks.push(c);
    const id = response.headers.get("x-llmgw-request-id") ?? "";
    const row = await requestRow(id);
    expect(row.model).toBe("gpt-4o-mini");
    expect(Number(row.cost_usd)).toBeGreaterThan(0);
    expect(Number(row.output_tokens)).toBe(chunks.at(-1)?.usage?.completion_tokens);
    const services = new Set(linesFor(id).map((l) => String(l.service)));
    for (const s of ["edge", "router", "executor", "ledger"]) expect(services).toContain(s);
  });

  it("a failed request is in the logs and in the ledger with its status", async () => {
    gw.sim.addFault({ model: "gpt-4.1-nano", status: 400, count: 1 });
    const err = await client.chat.completions.create({ model: "gpt-4.1-nano", messages: [{ role: "user", content: "Reject me" }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const id = (err as InstanceType<typeof OpenAI.APIError>).headers?.get("x-llmgw-request-id") ?? "";
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const row = await requestRow(id);
    expect(Number(row.http_status)).toBe(400);
    expect(linesFor(id).some((l) => l.service === "edge" && l.status === 400)).toBe(true);
  });

  it("the evaluator logs each shadow test it runs with the request id", async () => {
    const { response } = await client.chat.completions.create({ model: "auto", messages: [{ role: "user", content: `${HIGH_PROMPT} ${randomUUID()}` }] }).withResponse();
    const id = response.headers.get("x-llmgw-request-id") ?? "";
    await poll(`evaluator log for ${id}`, async () => linesFor(id).find((l) => l.service === "evaluator" && l.msg === "shadow test evaluated"));
  });
});
