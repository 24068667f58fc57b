// The edge's Files + Batches API with the official openai SDK, in both run modes: files and batches
// in the ledger's database, each line routed on its own (named models kept, "auto" routed), provider
// batches through the executor, output in input order, failed lines in the error file, each
// succeeded line billed once at the batch price; list paging, cancel, tenant isolation, errors.
import { randomUUID } from "node:crypto";
import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { MODES, startGateway, type Gateway } from "./harness.ts";
import { batchLine, batchTestConfig, jsonl, waitForStatus } from "./support/batches.ts";
import { LedgerDb } from "./support-ledger/ledger-db.ts";

// gpt-4o-mini list prices per million tokens and its batch discount (deploy/config/prices.yaml).
const PRICE = { input: 0.15, output: 0.6, discount: 0.5 };

async function expectError(p: Promise<unknown>, status: number, param?: string): Promise<InstanceType<typeof OpenAI.APIError>> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(OpenAI.APIError);
  const ae = e as InstanceType<typeof OpenAI.APIError>;
  expect(ae.status).toBe(status);
  expect(typeof (ae.error as { message?: unknown } | undefined)?.message).toBe("string");
  if (param !== undefined) expect(ae.param).toBe(param);
  return ae;
}

describe.each(MODES)("batches (%s)", (mode) => {
  let gw: Gateway;
  let client: OpenAI;
  let tenant: string;
  let key: string;

  beforeAll(async () => {
    const config = batchTestConfig();
    // small-8k's provider gets no batch API here: its lines must run live, at the live price.
    const local = config.providers["local"];
    if (local) local.batch_api = false;
    gw = await startGateway(mode, { config, sim: { batchDelayMs: 300 } });
    tenant = `batch-${randomUUID().slice(0, 8)}`;
    key = await gw.createKey(tenant);
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
  }, 180_000);

  afterAll(async () => {
    await gw?.stop();
  });

  it("round trip: named and auto lines, output in input order, failed line in the error file, one ledger row per success at batch price", async () => {
    const lines = [
      batchLine("a-1", "gpt-4o-mini", "Question one: what is 1 plus 1?"),
      batchLine("a-2", "auto", "Say hello politely."),
      batchLine("a-3", "gpt-4o-mini", "This one fails: sim-fail"),
      batchLine("a-4", "gpt-4o-mini", "Question four: what is 4 plus 4?"),
    ];
    const file = await client.files.create({ file: await toFile(Buffer.from(lines.join("\n")), "in.jsonl"), purpose: "batch" });
    expect(file).toMatchObject({ object: "file", purpose: "batch", filename: "in.jsonl" });
    expect(file.id).toMatch(/^file-llmgw-/);
    expect((await client.files.retrieve(file.id)).bytes).toBe(Buffer.byteLength(lines.join("\n")));
    expect(await (await client.files.content(file.id)).text()).toBe(lines.join("\n"));

    const created = await client.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h", metadata: { job: "nightly" } });
    expect(created).toMatchObject({ object: "batch", status: "validating", input_file_id: file.id, completion_window: "24h", metadata: { job: "nightly" }, request_counts: { total: 4, completed: 0, failed: 0 } });
    const batch = await waitForStatus(client, created.id, (s) => s === "completed");
    expect(batch.request_counts).toEqual({ total: 4, completed: 3, failed: 1 });
    expect(batch.completed_at).toBeGreaterThan(0);

    const out = jsonl(await (await client.files.content(batch.output_file_id ?? "")).text());
    expect(out.map((l) => l.custom_id)).toEqual(["a-1", "a-2", "a-4"]);
    for (const l of out) expect(l.response?.status_code).toBe(200);
    expect(out[0]?.response?.body.model).toBe("gpt-4o-mini");
    const errs = jsonl(await (await client.files.content(batch.error_file_id ?? "")).text());
    expect(errs.map((l) => [l.custom_id, l.response?.status_code])).toEqual([["a-3", 500]]);

    const named = out.filter((l) => l.custom_id !== "a-2");
    const expectedNamed = named.reduce((s, l) => {
      const u = l.response?.body.usage;
      return u ? s + ((u.prompt_tokens * PRICE.input + u.completion_tokens * PRICE.output) / 1e6) * (1 - PRICE.discount) : s;
    }, 0);
    const spend = await vi.waitFor(async () => {
      const res = await fetch(`${gw.url}/v1/llmgw/spend?since=1h&group_by=model`, { headers: { authorization: `Bearer ${key}` } });
      const body = (await res.json()) as { total: { requests: number; cost_usd: number; savings: { batch_usd: number } } };
      if (body.total.requests < 3) throw new Error(`ledger has ${body.total.requests} requests`);
      return body.total;
    }, { timeout: 15_000, interval: 100 });
    expect(spend.requests).toBe(3);
    expect(spend.savings.batch_usd).toBeGreaterThan(0);

    if (gw.mesh) {
      const db = await LedgerDb.open(gw.mesh.ledgerSchema);
      try {
        const ids = [0, 1, 2, 3].map((i) => `${batch.id}:${i}`);
        const rows = await db.waitForRequests([ids[0] ?? "", ids[1] ?? "", ids[3] ?? ""]);
        expect(rows.map((r) => r.request_id).sort()).toEqual([ids[0], ids[1], ids[3]].sort());
        const calls = await db.calls(ids);
        expect(calls.every((c) => c.kind === "batch")).toBe(true);
        expect(Number(await db.sumCost([ids[0] ?? "", ids[3] ?? ""]))).toBeCloseTo(expectedNamed, 9);
      } finally {
        await db.close();
      }
    }
  }, 60_000);

  it("a line whose provider has no batch API runs live through the executor, billed once at the live price", async () => {
    const liveClient = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: await gw.createKey(`${tenant}-live`), maxRetries: 0 });
    const lines = [batchLine("l-1", "small-8k", "Live line one: name a colour."), batchLine("l-2", "gpt-4o-mini", "Batched line two: name a fruit."), batchLine("l-3", "small-8k", "Live line three: name a city.")];
    const file = await liveClient.files.create({ file: await toFile(Buffer.from(lines.join("\n")), "in.jsonl"), purpose: "batch" });
    const created = await liveClient.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    const batch = await waitForStatus(liveClient, created.id, (s) => s === "completed");
    expect(batch.request_counts).toEqual({ total: 3, completed: 3, failed: 0 });
    const out = jsonl(await (await liveClient.files.content(batch.output_file_id ?? "")).text());
    expect(out.map((l) => [l.custom_id, l.response?.body.model])).toEqual([["l-1", "small-8k"], ["l-2", "gpt-4o-mini"], ["l-3", "small-8k"]]);

    // small-8k: $0.05 / $0.20 per million tokens, no batch discount for a line run live.
    const liveUsd = out.filter((l) => l.response?.body.model === "small-8k").reduce((s, l) => {
      const u = l.response?.body.usage;
      return u ? s + (u.prompt_tokens * 0.05 + u.completion_tokens * 0.2) / 1e6 : s;
    }, 0);
    const rows = await vi.waitFor(async () => {
      const res = await fetch(`${gw.url}/v1/llmgw/spend?since=1h&group_by=model`, { headers: { authorization: `Bearer ${liveClient.apiKey}` } });
      const body = (await res.json()) as { total: { requests: number }; rows: { model: string; requests: number; cost_usd: number; savings: { batch_usd: number } }[] };
      if (body.total.requests < 3) throw new Error(`ledger has ${body.total.requests} requests`);
      return body.rows;
    }, { timeout: 15_000, interval: 100 });
    const small = rows.find((r) => r.model === "small-8k");
    expect(small?.requests).toBe(2);
    expect(small?.cost_usd).toBeCloseTo(liveUsd, 9);
    expect(small?.savings.batch_usd).toBe(0);
    expect(rows.find((r) => r.model === "gpt-4o-mini")?.savings.batch_usd).toBeGreaterThan(0);
  }, 60_000);

  it("lists batches and files with cursor paging, newest first", async () => {
    const t = `${tenant}-list`;
    const c = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: await gw.createKey(t), maxRetries: 0 });
    const file = await c.files.create({ file: await toFile(Buffer.from(batchLine("x", "gpt-4o-mini", "hi")), "in.jsonl"), purpose: "batch" });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await c.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" })).id);
    const p1 = await c.batches.list({ limit: 2 });
    expect(p1.data.map((b) => b.id)).toEqual([ids[2], ids[1]]);
    expect(p1.hasNextPage()).toBe(true);
    const p2 = await p1.getNextPage();
    expect(p2.data.map((b) => b.id)).toEqual([ids[0]]);
    expect(p2.hasNextPage()).toBe(false);
    const raw = (await (await fetch(`${gw.url}/v1/batches?limit=2`, { headers: { authorization: `Bearer ${c.apiKey}` } })).json()) as { first_id: string; last_id: string; has_more: boolean };
    expect(raw).toMatchObject({ first_id: ids[2], last_id: ids[1], has_more: true });
    const files = await c.files.list();
    expect(files.data.map((f) => f.id)).toContain(file.id);
    await expectError(c.batches.list({ limit: 0 }), 400, "limit");
  }, 60_000);

  it("cancel: a running batch ends cancelled, its unfinished lines in the error file", async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from([batchLine("c-1", "gpt-4o-mini", "one"), batchLine("c-2", "gpt-4o-mini", "two")].join("\n")), "in.jsonl"), purpose: "batch" });
    const created = await client.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    const cancelling = await client.batches.cancel(created.id);
    expect(["cancelling", "cancelled"]).toContain(cancelling.status);
    const b = await waitForStatus(client, created.id, (s) => s === "cancelled");
    expect(b.cancelled_at).toBeGreaterThan(0);
    expect(b.request_counts?.failed).toBe(2);
    const errs = jsonl(await (await client.files.content(b.error_file_id ?? "")).text());
    expect(errs.map((l) => [l.custom_id, l.error?.code ?? l.response?.status_code])).toEqual([["c-1", "batch_cancelled"], ["c-2", "batch_cancelled"]]);
    // A finished batch cannot be cancelled again into anything else.
    expect((await client.batches.cancel(created.id)).status).toBe("cancelled");
  }, 60_000);

  it("budget: the whole batch's worst case is reserved at creation (429 over a hard limit) and settled to its cost at the end", async () => {
    const t = `${tenant}-budget`;
    const res = await fetch(`${gw.url}/v1/llmgw/budgets`, {
      method: "PUT",
      headers: { authorization: `Bearer ${gw.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ tenant_id: t, period: "day", hard_limit_usd: "0.009" }),
    });
    expect(res.status).toBe(200);
    const c = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: await gw.createKey(t), maxRetries: 0 });
    // gpt-4o, max_tokens 50: a worst case of ~$0.000525 a line, ~$0.00525 for ten.
    const upload = async (n: number, tag: string) =>
      (await c.files.create({ file: await toFile(Buffer.from(Array.from({ length: n }, (_, i) => batchLine(`${tag}-${i}`, "gpt-4o", `Budget question ${tag} ${i}.`)).join("\n")), "in.jsonl"), purpose: "batch" })).id;
    const create = async (fileId: string) => c.batches.create({ input_file_id: fileId, endpoint: "/v1/chat/completions", completion_window: "24h" });
    const tooBig = await expectError(create(await upload(100, "big")), 429);
    expect(tooBig.code).toBe("insufficient_quota");
    expect((await c.batches.list()).data).toEqual([]);
    const a = await create(await upload(10, "a"));
    await waitForStatus(c, a.id, (s) => s === "completed");
    // Still holding A's worst case, B's would pass the limit; A was settled to its (batch-price) cost.
    const b = await create(await upload(10, "b"));
    expect(b.status).toBe("validating");
  }, 60_000);

  it("tenant isolation and OpenAI-shaped errors", async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from(batchLine("1", "gpt-4o-mini", "hi")), "in.jsonl"), purpose: "batch" });
    const created = await client.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    const other = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: await gw.createKey(`${tenant}-other`), maxRetries: 0 });
    await expectError(other.files.retrieve(file.id), 404);
    await expectError(other.files.content(file.id), 404);
    await expectError(other.files.delete(file.id), 404);
    await expectError(other.batches.retrieve(created.id), 404);
    await expectError(other.batches.cancel(created.id), 404);
    await expectError(other.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" }), 404, "input_file_id");
    expect((await other.batches.list()).data).toEqual([]);

    await expectError(client.files.create({ file: await toFile(Buffer.from("{}"), "in.jsonl"), purpose: "fine-tune" }), 400, "purpose");
    const badLine = await expectError(client.files.create({ file: await toFile(Buffer.from(`${batchLine("1", "gpt-4o-mini", "hi")}\n{not json`), "in.jsonl"), purpose: "batch" }), 400, "file");
    expect(badLine.message).toContain("line 2");
    const unknown = await expectError(client.files.create({ file: await toFile(Buffer.from(batchLine("1", "no-such-model", "hi")), "in.jsonl"), purpose: "batch" }), 400, "file");
    expect(unknown.message).toContain("line 1");
    // A line the chat route would refuse is refused at upload, not when the batch is created (it was a 500 there).
    const badMessage = JSON.stringify({ custom_id: "1", method: "POST", url: "/v1/chat/completions", body: { model: "gpt-4o-mini", messages: [5] } });
    expect((await expectError(client.files.create({ file: await toFile(Buffer.from(badMessage), "in.jsonl"), purpose: "batch" }), 400, "file")).message).toContain("messages[0]");
    // A model named like an inherited key is unknown (such a batch used to stay in 'validating' for good).
    expect((await expectError(client.files.create({ file: await toFile(Buffer.from(batchLine("1", "toString", "hi")), "in.jsonl"), purpose: "batch" }), 400, "file")).message).toContain("toString");
    // A file name PostgreSQL cannot store is a 400, not a 500.
    await expectError(client.files.create({ file: await toFile(Buffer.from(batchLine("1", "gpt-4o-mini", "hi")), "a\u0000b.jsonl"), purpose: "batch" }), 400, "file.filename");
    await expectError(client.batches.create({ input_file_id: file.id, endpoint: "/v1/embeddings", completion_window: "24h" }), 400, "endpoint");
    await expectError(client.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "1h" as "24h" }), 400, "completion_window");
    await expectError(client.batches.create({ input_file_id: "file-nope", endpoint: "/v1/chat/completions", completion_window: "24h" }), 404, "input_file_id");
    await expectError(client.batches.retrieve("batch_nope"), 404);
    await expectError(client.files.content("file-nope"), 404);

    expect(await client.files.delete(file.id)).toMatchObject({ id: file.id, deleted: true });
    await expectError(client.files.retrieve(file.id), 404);
    const anon = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "llmgw-not-a-key", maxRetries: 0 });
    await expectError(anon.batches.retrieve("batch_nope"), 401);
  }, 60_000);
});
