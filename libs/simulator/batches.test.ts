import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "./server.ts";

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
