import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simBatchLineFails, startSimulator, type Simulator } from "./server.ts";

let sim: Simulator;
let client: Anthropic;

beforeAll(async () => {
  sim = await startSimulator({ port: 22111 });
  client = new Anthropic({ baseURL: sim.url, apiKey: "x", maxRetries: 0 });
});
afterAll(async () => {
  await sim.close();
});

const request = (customId: string, content: string): Anthropic.Messages.BatchCreateParams.Request => ({
  custom_id: customId,
  params: { model: "claude-3-5-haiku-latest", max_tokens: 64, messages: [{ role: "user", content }] },
});

async function results(c: Anthropic, id: string): Promise<Anthropic.Messages.MessageBatchIndividualResponse[]> {
  const out: Anthropic.Messages.MessageBatchIndividualResponse[] = [];
  for await (const r of await c.messages.batches.results(id)) out.push(r);
  return out;
}

describe("Anthropic Message Batches", () => {
  it("round trip through the SDK: create, retrieve, results (succeeded answers match the live API, sim-fail errored, sim-expire expired)", async () => {
    const created = await client.messages.batches.create({ requests: [request("a", "first question"), request("b", "please sim-fail"), request("c", "sim-expire me"), request("d", "[sim:500] broken")] });
    expect(created.type).toBe("message_batch");
    expect(created.id.startsWith("msgbatch_")).toBe(true);
    expect(created.processing_status).toBe("in_progress");
    expect(created.request_counts.processing).toBe(4);
    expect(created.results_url).toBeNull();

    const done = await client.messages.batches.retrieve(created.id);
    expect(done.processing_status).toBe("ended");
    expect(done.request_counts).toEqual({ processing: 0, succeeded: 1, errored: 2, canceled: 0, expired: 1 });
    expect(done.ended_at).not.toBeNull();

    const rs = await results(client, created.id);
    expect(rs.map((r) => [r.custom_id, r.result.type])).toEqual([["a", "succeeded"], ["b", "errored"], ["c", "expired"], ["d", "errored"]]);
    const live = await client.messages.create(request("a", "first question").params);
    const first = rs[0]?.result;
    if (first?.type !== "succeeded") throw new Error("expected a succeeded result");
    expect(first.message.content).toEqual(live.content);
    const d = rs[3]?.result;
    if (d?.type !== "errored") throw new Error("expected an errored result");
    expect(d.error.error.type).toBe("api_error");
  });

  it("stays in_progress until the delay, cancels (canceling, then ended with every request canceled), refuses results before the end; deletes only ended batches", async () => {
    const slow = await startSimulator({ port: 22112, batchDelayMs: 60_000 });
    try {
      const c = new Anthropic({ baseURL: slow.url, apiKey: "x", maxRetries: 0 });
      const b = await c.messages.batches.create({ requests: [request("x", "hi"), request("y", "there")] });
      expect((await c.messages.batches.retrieve(b.id)).processing_status).toBe("in_progress");
      await expect(c.messages.batches.results(b.id)).rejects.toThrow(/results_url/);
      const cancelling = await c.messages.batches.cancel(b.id);
      expect(cancelling.processing_status).toBe("canceling");
      expect(cancelling.cancel_initiated_at).not.toBeNull();
      const ended = await c.messages.batches.retrieve(b.id);
      expect(ended.processing_status).toBe("ended");
      expect(ended.request_counts).toEqual({ processing: 0, succeeded: 0, errored: 0, canceled: 2, expired: 0 });
      expect((await results(c, b.id)).map((r) => r.result.type)).toEqual(["canceled", "canceled"]);
      await expect(c.messages.batches.cancel(b.id)).rejects.toBeInstanceOf(Anthropic.BadRequestError);
      expect(await c.messages.batches.delete(b.id)).toEqual({ id: b.id, type: "message_batch_deleted" });
      await expect(c.messages.batches.retrieve(b.id)).rejects.toBeInstanceOf(Anthropic.NotFoundError);
      const running = await c.messages.batches.create({ requests: [request("z", "q")] });
      await expect(c.messages.batches.delete(running.id)).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    } finally {
      await slow.close();
    }
  });

  it("a sim-batch-delay=MS marker in any request delays that batch only", async () => {
    const slow = await client.messages.batches.create({ requests: [request("a", "q"), request("b", "hold sim-batch-delay=60000 please")] });
    const fast = await client.messages.batches.create({ requests: [request("a", "q")] });
    expect((await client.messages.batches.retrieve(slow.id)).processing_status).toBe("in_progress");
    expect((await client.messages.batches.retrieve(fast.id)).processing_status).toBe("ended");
  });

  it("fails the seeded share of custom_ids, the same ones the OpenAI batches fail", async () => {
    const s = await startSimulator({ port: 22113, batchFailRate: 0.25, seed: 3 });
    try {
      const c = new Anthropic({ baseURL: s.url, apiKey: "x", maxRetries: 0 });
      const ids = Array.from({ length: 30 }, (_, i) => `r${i}`);
      const b = await c.messages.batches.create({ requests: ids.map((id) => request(id, `q ${id}`)) });
      const rs = await results(c, b.id);
      expect(rs.filter((r) => r.result.type === "errored").map((r) => r.custom_id)).toEqual(ids.filter((id) => simBatchLineFails(id, 0.25, 3)));
    } finally {
      await s.close();
    }
  });

  it("lists newest first with after_id pagination; rejects bad custom_ids and unknown ids in Anthropic's error shape", async () => {
    const s = await startSimulator({ port: 22114 });
    try {
      const c = new Anthropic({ baseURL: s.url, apiKey: "x", maxRetries: 0 });
      const made: string[] = [];
      for (let i = 0; i < 5; i++) made.push((await c.messages.batches.create({ requests: [request(`i${i}`, "q")] })).id);
      const page = await c.messages.batches.list({ limit: 2 });
      expect(page.data.map((b) => b.id)).toEqual([made[4], made[3]]);
      expect(page.has_more).toBe(true);
      const all: string[] = [];
      for await (const b of c.messages.batches.list({ limit: 2 })) all.push(b.id);
      expect(all).toEqual([...made].reverse());

      await expect(c.messages.batches.create({ requests: [request("has space", "q")] })).rejects.toBeInstanceOf(Anthropic.BadRequestError);
      await expect(c.messages.batches.create({ requests: [request("dup", "q"), request("dup", "q")] })).rejects.toThrow(/duplicate/);
      const err = await c.messages.batches.retrieve("msgbatch_nope").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.NotFoundError);
      expect((err as InstanceType<typeof Anthropic.NotFoundError>).error).toMatchObject({ type: "error", error: { type: "not_found_error" } });
    } finally {
      await s.close();
    }
  });
});
