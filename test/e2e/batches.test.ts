// The edge's Files + Batches API with the official openai SDK, in both run modes: a JSONL batch goes
// to the provider's (simulated) Batch API through the executor, the output comes back under gateway
// ids, and the ledger records one batch call per line at the model's batch discount.
import { randomUUID } from "node:crypto";
import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { MODES, startGateway, type Gateway } from "./harness.ts";
import { LedgerDb } from "./support-ledger/ledger-db.ts";

// gpt-4o-mini list prices per million tokens and its batch discount (deploy/config/prices.yaml).
const PRICE = { input: 0.15, output: 0.6, discount: 0.5 };

function line(customId: string, model: string, text: string): string {
  return JSON.stringify({ custom_id: customId, method: "POST", url: "/v1/chat/completions", body: { model, messages: [{ role: "user", content: text }], max_tokens: 50 } });
}

interface OutputLine {
  custom_id: string;
  response: { status_code: number; body: { model: string; usage: { prompt_tokens: number; completion_tokens: number; prompt_tokens_details?: { cached_tokens?: number } } } };
}

async function runBatch(client: OpenAI, jsonl: string): Promise<{ batch: OpenAI.Batch; lines: OutputLine[] }> {
  const file = await client.files.create({ file: await toFile(Buffer.from(jsonl), "in.jsonl"), purpose: "batch" });
  expect(file.id).toMatch(/^file-llmgw-/);
  const created = await client.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
  expect(created.id).toMatch(/^batch_llmgw_/);
  expect(created.input_file_id).toBe(file.id);
  // The simulator completes a batch on its first retrieve after batchDelayMs (0 here).
  const batch = await vi.waitFor(async () => {
    const b = await client.batches.retrieve(created.id);
    if (b.status !== "completed") throw new Error(`batch still ${b.status}`);
    return b;
  }, { timeout: 10_000, interval: 50 });
  expect(batch.output_file_id).toMatch(/^file-llmgw-/);
  const text = await (await client.files.content(batch.output_file_id ?? "")).text();
  const lines = text.split("\n").filter((l) => l.trim().length > 0).map((l) => JSON.parse(l) as OutputLine);
  return { batch, lines };
}

describe.each(MODES)("batches (%s)", (mode) => {
  let gw: Gateway;
  let client: OpenAI;
  let tenant: string;
  let key: string;

  beforeAll(async () => {
    gw = await startGateway(mode);
    tenant = `batch-${randomUUID().slice(0, 8)}`;
    key = await gw.createKey(tenant);
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
  }, 30_000);

  afterAll(async () => {
    await gw?.stop();
  });

  it("round trip: output lines match custom_ids; the ledger records batch calls at the discount", async () => {
    const ids = ["a-1", "a-2", "a-3"];
    const jsonl = ids.map((id, i) => line(id, "gpt-4o-mini", `Question ${i}: what is ${i} plus ${i}?`)).join("\n");
    const { batch, lines } = await runBatch(client, jsonl);
    expect(batch.request_counts?.completed).toBe(3);
    expect(lines.map((l) => l.custom_id).sort()).toEqual(ids);
    for (const l of lines) expect(l.response.status_code).toBe(200);

    const expectedUsd = lines.reduce((s, l) => {
      const u = l.response.body.usage;
      return s + ((u.prompt_tokens * PRICE.input + u.completion_tokens * PRICE.output) / 1e6) * (1 - PRICE.discount);
    }, 0);
    expect(expectedUsd).toBeGreaterThan(0);
    const spend = await vi.waitFor(async () => {
      const res = await fetch(`${gw.url}/v1/llmgw/spend?since=1h&group_by=model`, { headers: { authorization: `Bearer ${key}` } });
      const body = (await res.json()) as { total: { requests: number; cost_usd: number; savings: { batch_usd: number } } };
      if (body.total.requests < 3) throw new Error(`ledger has ${body.total.requests} requests`);
      return body.total;
    }, { timeout: 15_000, interval: 100 });
    expect(spend.requests).toBe(3);
    expect(spend.cost_usd).toBeCloseTo(expectedUsd, 9);
    // Half price: the batch saving equals what was paid.
    expect(spend.savings.batch_usd).toBeCloseTo(expectedUsd, 9);

    // Fetching the output again publishes nothing new (request ids derive from batch id + custom_id).
    await client.files.content(batch.output_file_id ?? "");

    if (gw.mesh) {
      const db = await LedgerDb.open(gw.mesh.ledgerSchema);
      try {
        const reqIds = ids.map((id) => `${batch.id}:${id}`);
        const calls = await db.waitForCalls(reqIds, (c) => c.kind === "batch", 3);
        expect(calls.map((c) => c.model)).toEqual(["gpt-4o-mini", "gpt-4o-mini", "gpt-4o-mini"]);
        const rows = await db.requests(reqIds);
        expect(rows).toHaveLength(3);
        expect(Number(await db.sumCost(reqIds))).toBeCloseTo(expectedUsd, 9);
      } finally {
        await db.close();
      }
    }
  }, 30_000);

  it('"auto" is resolved once to a concrete OpenAI-type model', async () => {
    const jsonl = [line("x", "auto", "Say hello."), line("y", "auto", "Say goodbye.")].join("\n");
    const { batch, lines } = await runBatch(client, jsonl);
    expect(batch.model).not.toBe("auto");
    expect(lines.map((l) => l.custom_id).sort()).toEqual(["x", "y"]);
  }, 30_000);

  it("errors are OpenAI-shaped: bad params 400 with param, unknown ids 404, mixed models 400, no key 401", async () => {
    const bad = async (p: Promise<unknown>, status: number, param?: string) => {
      const e = await p.then(() => undefined, (err: unknown) => err);
      expect(e).toBeInstanceOf(OpenAI.APIError);
      const ae = e as InstanceType<typeof OpenAI.APIError>;
      expect(ae.status).toBe(status);
      expect(typeof (ae.error as { message?: unknown } | undefined)?.message).toBe("string");
      if (param !== undefined) expect(ae.param).toBe(param);
    };
    const file = await client.files.create({ file: await toFile(Buffer.from(line("1", "gpt-4o-mini", "hi")), "in.jsonl"), purpose: "batch" });
    await bad(client.files.create({ file: await toFile(Buffer.from("{}"), "in.jsonl"), purpose: "fine-tune" }), 400, "purpose");
    await bad(client.batches.create({ input_file_id: file.id, endpoint: "/v1/embeddings", completion_window: "24h" }), 400, "endpoint");
    await bad(client.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "1h" as "24h" }), 400, "completion_window");
    await bad(client.batches.create({ input_file_id: "file-nope", endpoint: "/v1/chat/completions", completion_window: "24h" }), 404, "input_file_id");
    await bad(client.batches.retrieve("batch_nope"), 404);
    await bad(client.files.content("file-nope"), 404);

    const mixed = await client.files.create({ file: await toFile(Buffer.from([line("1", "gpt-4o-mini", "hi"), line("2", "gpt-4o", "hi")].join("\n")), "in.jsonl"), purpose: "batch" });
    await bad(client.batches.create({ input_file_id: mixed.id, endpoint: "/v1/chat/completions", completion_window: "24h" }), 400, "input_file_id");
    const anthropic = await client.files.create({ file: await toFile(Buffer.from(line("1", "claude-sonnet-4-5", "hi")), "in.jsonl"), purpose: "batch" });
    await bad(client.batches.create({ input_file_id: anthropic.id, endpoint: "/v1/chat/completions", completion_window: "24h" }), 400, "input_file_id");

    // Another tenant cannot see this tenant's file.
    const other = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: await gw.createKey(`${tenant}-other`), maxRetries: 0 });
    await bad(other.files.content(file.id), 404);
    const anon = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "llmgw-not-a-key", maxRetries: 0 });
    await bad(anon.batches.retrieve("batch_nope"), 401);
  }, 30_000);
});
