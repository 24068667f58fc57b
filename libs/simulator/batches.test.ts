import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simBatchLineFails, startSimulator, type Simulator } from "./server.ts";

let sim: Simulator;
let client: OpenAI;

beforeAll(async () => {
  sim = await startSimulator();
  client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: "x", maxRetries: 0 });
});
afterAll(async () => {
  await sim.close();
});

interface OutputLine {
  custom_id: string;
  response: { status_code: number; body: { choices?: { message: { content: string } }[]; usage?: { completion_tokens: number }; error?: { message: string } } };
}

function jsonl(lines: object[]): string {
  return lines.map((l) => JSON.stringify(l)).join("\n");
}

describe("batches", () => {
  it("round trip: upload JSONL, create, poll, download per-line responses that match the live API", async () => {
    const body = (content: string) => ({ model: "gpt-4o-mini", messages: [{ role: "user" as const, content }] });
    const file = await client.files.create({
      file: await toFile(
        Buffer.from(
          jsonl([
            { custom_id: "a", method: "POST", url: "/v1/chat/completions", body: body("first question") },
            { custom_id: "b", method: "POST", url: "/v1/chat/completions", body: body("second question") },
            { custom_id: "c", method: "POST", url: "/v1/chat/completions", body: body("[sim:500] broken") },
          ]),
        ),
        "batch.jsonl",
      ),
      purpose: "batch",
    });
    expect(file.id.startsWith("file-")).toBe(true);
    expect(file.purpose).toBe("batch");

    const created = await client.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    expect(created.status).toBe("validating");

    const done = await client.batches.retrieve(created.id);
    expect(done.status).toBe("completed");
    expect(done.request_counts).toEqual({ total: 3, completed: 2, failed: 1 });
    if (done.output_file_id === null || done.output_file_id === undefined) throw new Error("no output file");

    const out = await (await client.files.content(done.output_file_id)).text();
    const lines = out.trim().split("\n").map((l) => JSON.parse(l) as OutputLine);
    expect(lines.map((l) => l.custom_id)).toEqual(["a", "b"]);
    const live = await client.chat.completions.create(body("first question"));
    expect(lines[0]?.response.status_code).toBe(200);
    expect(lines[0]?.response.body.choices?.[0]?.message.content).toBe(live.choices[0]?.message.content);

    if (done.error_file_id === null || done.error_file_id === undefined) throw new Error("no error file");
    const errs = (await (await client.files.content(done.error_file_id)).text()).trim().split("\n").map((l) => JSON.parse(l) as OutputLine);
    expect(errs[0]?.custom_id).toBe("c");
    expect(errs[0]?.response.status_code).toBe(500);
  });

  it("stays in_progress until batchDelayMs has passed", async () => {
    const slow = await startSimulator({ batchDelayMs: 60_000 });
    try {
      const c = new OpenAI({ baseURL: `${slow.url}/v1`, apiKey: "x", maxRetries: 0 });
      const file = await c.files.create({
        file: await toFile(Buffer.from(jsonl([{ custom_id: "x", method: "POST", url: "/v1/embeddings", body: { model: "text-embedding-3-small", input: "hi" } }])), "b.jsonl"),
        purpose: "batch",
      });
      const b = await c.batches.create({ input_file_id: file.id, endpoint: "/v1/embeddings", completion_window: "24h" });
      expect((await c.batches.retrieve(b.id)).status).toBe("in_progress");
      expect((await c.batches.cancel(b.id)).status).toBe("cancelled");
    } finally {
      await slow.close();
    }
  });

  it("rejects an unknown input file", async () => {
    await expect(client.batches.create({ input_file_id: "file-missing", endpoint: "/v1/chat/completions", completion_window: "24h" })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });
});

describe("batches: delays, per-line failures, listing", () => {
  const chatLine = (customId: string, content: string) => ({ custom_id: customId, method: "POST", url: "/v1/chat/completions", body: { model: "gpt-4o-mini", messages: [{ role: "user", content }] } });

  async function submit(c: OpenAI, lines: object[], metadata?: Record<string, string>): Promise<OpenAI.Batch> {
    const file = await c.files.create({ file: await toFile(Buffer.from(jsonl(lines)), "b.jsonl"), purpose: "batch" });
    return c.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h", ...(metadata ? { metadata } : {}) });
  }

  it("fails lines marked sim-fail, expires lines marked sim-expire (batch 'expired'), and fails a seeded share by custom_id", async () => {
    const s = await startSimulator({ port: 22101, batchFailRate: 0.3, seed: 7 });
    try {
      const c = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "x", maxRetries: 0 });
      const ids = Array.from({ length: 40 }, (_, i) => `line-${i}`);
      const seeded = ids.filter((id) => simBatchLineFails(id, 0.3, 7));
      expect(seeded.length).toBeGreaterThan(4);
      expect(seeded.length).toBeLessThan(24);
      const plain = await submit(c, ids.map((id) => chatLine(id, `question ${id}`)));
      const done = await c.batches.retrieve(plain.id);
      expect(done.status).toBe("completed");
      expect(done.request_counts).toEqual({ total: 40, completed: 40 - seeded.length, failed: seeded.length });
      const errs = (await (await c.files.content(done.error_file_id ?? "")).text()).trim().split("\n").map((l) => JSON.parse(l) as OutputLine);
      expect(errs.map((e) => e.custom_id)).toEqual(seeded);
      expect(errs[0]?.response.status_code).toBe(500);

      const marked = await submit(c, [chatLine("ok-A", "fine"), chatLine("b", "please sim-fail this"), chatLine("c", "and sim-expire this one")].filter((l) => !simBatchLineFails(l.custom_id, 0.3, 7)));
      const m = await c.batches.retrieve(marked.id);
      expect(m.status).toBe("expired");
      expect(m.expired_at).not.toBeNull();
      const mErrs = (await (await c.files.content(m.error_file_id ?? "")).text()).trim().split("\n").map((l) => JSON.parse(l) as { custom_id: string; response: { status_code: number } | null; error: { code: string } | null });
      expect(mErrs.map((e) => [e.custom_id, e.response?.status_code ?? null, e.error?.code ?? null])).toEqual([["b", 500, null], ["c", null, "batch_expired"]]);
    } finally {
      await s.close();
    }
  });

  it("a batch's metadata sim_delay_ms or a sim-batch-delay=MS line overrides the simulator's delay; metadata round-trips and list pages find it", async () => {
    const s = await startSimulator({ port: 22102 });
    try {
      const c = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "x", maxRetries: 0 });
      const slow = await submit(c, [chatLine("a", "hi")], { sim_delay_ms: "60000", llmgw_key: "k-slow" });
      for (let i = 0; i < 4; i++) await submit(c, [chatLine("a", `hi ${i}`)], { llmgw_key: `k-${i}` });
      expect((await c.batches.retrieve(slow.id)).status).toBe("in_progress");
      const marked = await submit(c, [chatLine("m", "wait sim-batch-delay=60000")]);
      expect((await c.batches.retrieve(marked.id)).status).toBe("in_progress");

      const seen: OpenAI.Batch[] = [];
      for await (const b of c.batches.list({ limit: 2 })) seen.push(b);
      expect(seen).toHaveLength(6);
      expect(seen.map((b) => b.metadata?.["llmgw_key"])).toEqual([undefined, "k-3", "k-2", "k-1", "k-0", "k-slow"]);
      expect(seen.find((b) => b.metadata?.["llmgw_key"] === "k-slow")?.id).toBe(slow.id);
      const first = await c.batches.list({ limit: 2 });
      expect(first.has_more).toBe(true);
    } finally {
      await s.close();
    }
  });
});
