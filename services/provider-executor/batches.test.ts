import Anthropic from "@anthropic-ai/sdk";
import { Code, ConnectError } from "@connectrpc/connect";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "#libs/simulator/server.ts";
import { ProviderBatches, upstreamJsonl } from "./batches.ts";
import type { Deployment } from "./domain/deployments.ts";

describe("upstreamJsonl", () => {
  it("sets every line's body.model to the upstream name and drops blank lines", () => {
    const input = `${JSON.stringify({ custom_id: "a", body: { model: "gw-name", messages: [] } })}\n\n${JSON.stringify({ custom_id: "b", body: { model: "gw-name" } })}`;
    const out = upstreamJsonl(input, "upstream-name").trim().split("\n").map((l) => JSON.parse(l) as { custom_id: string; body: { model: string } });
    expect(out.map((l) => [l.custom_id, l.body.model])).toEqual([["a", "upstream-name"], ["b", "upstream-name"]]);
  });

  it("rejects a line that is not JSON as InvalidArgument", () => {
    expect(() => upstreamJsonl("{nope", "m")).toThrow(ConnectError);
  });
});

// The executor's batch RPC contract against the simulator through the real SDKs: OpenAI JSONL in, OpenAI
// batch objects and output / error JSONL out, for an Anthropic deployment as for an OpenAI one.
let sim: Simulator;
let slowSim: Simulator;

function deployment(model: string, providerType: "openai" | "anthropic", url: string, upstreamModel: string): Deployment {
  return {
    model,
    providerId: providerType === "openai" ? "openai" : "anthropic",
    providerType,
    baseURL: providerType === "openai" ? `${url}/v1` : url,
    apiKey: "sim-key",
    upstreamModel,
    contextWindow: 200_000,
    maxOutputTokens: 256,
    capabilities: new Set(),
    maxConcurrency: 10,
    queue: null,
  };
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const chatLine = (customId: string, content: string) => JSON.stringify({ custom_id: customId, method: "POST", url: "/v1/chat/completions", body: { model: "claude-fast", messages: [{ role: "user", content }] } });

interface OutLine {
  id: string;
  custom_id: string;
  response: { status_code: number; body: { object?: string; model?: string; choices?: { message: { content: string } }[]; usage?: { completion_tokens: number }; error?: { code: string } } } | null;
  error: { code: string } | null;
}
const lines = (b: Uint8Array): OutLine[] => dec.decode(b).trim().split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l) as OutLine);
const obj = (b: Uint8Array) => JSON.parse(dec.decode(b)) as { id: string; status: string; output_file_id: string | null; error_file_id: string | null; request_counts: { total: number; completed: number; failed: number }; metadata: Record<string, string> | null };

beforeAll(async () => {
  sim = await startSimulator({ port: 22201 });
  slowSim = await startSimulator({ port: 22202, batchDelayMs: 60_000 });
});
afterAll(async () => {
  await Promise.all([sim.close(), slowSim.close()]);
});

describe("ProviderBatches on an Anthropic deployment (Message Batches via @anthropic-ai/sdk)", () => {
  const deps = (url: string) => new Map([["claude-fast", deployment("claude-fast", "anthropic", url, "claude-3-5-haiku-latest")]]);

  it("creates, polls and returns OpenAI output and error files with original custom_ids", async () => {
    const d = deps(sim.url);
    const batches = new ProviderBatches((m) => d.get(m));
    const input = [chatLine("q 1", "first question"), chatLine("q2", "[sim:len=5] second"), chatLine("bad", "sim-fail this"), chatLine("late", "sim-expire this")].join("\n");
    const created = await batches.create({ model: "claude-fast", inputJsonl: enc.encode(input), endpoint: "/v1/chat/completions", completionWindow: "24h", metadata: { llmgw_key: "k1" } });
    expect(created.provider).toBe("anthropic");
    const c = obj(created.batchJson);
    expect(c.id.startsWith("msgbatch_")).toBe(true);
    expect(c.status).toBe("in_progress");
    expect(c.metadata).toEqual({ llmgw_key: "k1" });
    expect(c.request_counts).toEqual({ total: 4, completed: 0, failed: 0 });

    const done = obj(await batches.get("claude-fast", c.id));
    expect(done.status).toBe("expired"); // one line expired; the others are still in the files
    expect(done.request_counts).toEqual({ total: 4, completed: 2, failed: 2 });
    if (done.output_file_id === null || done.error_file_id === null) throw new Error("expected both files");

    const out = lines(await batches.output("claude-fast", done.output_file_id));
    expect(out.map((l) => l.custom_id)).toEqual(["q 1", "q2"]);
    expect(out[0]?.response?.status_code).toBe(200);
    expect(out[0]?.response?.body.object).toBe("chat.completion");
    expect(out[0]?.response?.body.model).toBe("claude-fast");
    expect(out[1]?.response?.body.usage?.completion_tokens).toBe(5);
    expect(new Set(out.map((l) => l.id)).size).toBe(2);
    // Reading again gives the same file (line ids derive from the batch, not from the read).
    expect(lines(await batches.output("claude-fast", done.output_file_id))).toEqual(out);

    const errs = lines(await batches.output("claude-fast", done.error_file_id));
    expect(errs.map((l) => [l.custom_id, l.response?.status_code ?? null, l.error?.code ?? null])).toEqual([["bad", 500, null], ["late", null, "batch_expired"]]);
    expect(sim.stats().byModel["claude-3-5-haiku-latest"]).toBe(2);
  });

  it("cancels a running batch (cancelling, then cancelled with every line in the error file); find is Unimplemented", async () => {
    const d = deps(slowSim.url);
    const batches = new ProviderBatches((m) => d.get(m));
    const created = obj((await batches.create({ model: "claude-fast", inputJsonl: enc.encode([chatLine("a", "x"), chatLine("b", "y")].join("\n")), endpoint: "/v1/chat/completions", completionWindow: "24h" })).batchJson);
    expect(obj(await batches.get("claude-fast", created.id)).status).toBe("in_progress");
    await expect(batches.output("claude-fast", `${created.id}:output`)).rejects.toMatchObject({ code: Code.FailedPrecondition });
    expect(obj(await batches.cancel("claude-fast", created.id)).status).toBe("cancelling");
    const ended = obj(await batches.get("claude-fast", created.id));
    expect(ended.status).toBe("cancelled");
    expect(ended.output_file_id).toBeNull();
    expect(lines(await batches.output("claude-fast", ended.error_file_id ?? "")).map((l) => [l.custom_id, l.error?.code])).toEqual([["a", "batch_cancelled"], ["b", "batch_cancelled"]]);
    await expect(batches.find("claude-fast", "llmgw_key", "k")).rejects.toMatchObject({ code: Code.Unimplemented });
  });

  it("refuses a line Anthropic cannot take, naming it, before calling the provider; maps provider 404s", async () => {
    const d = deps(sim.url);
    const batches = new ProviderBatches((m) => d.get(m));
    const anthropic = new Anthropic({ baseURL: sim.url, apiKey: "x", maxRetries: 0 });
    const before = (await anthropic.messages.batches.list({ limit: 1000 })).data.length;
    const bad = JSON.stringify({ custom_id: "e1", method: "POST", url: "/v1/embeddings", body: { model: "x", input: "hi" } });
    await expect(batches.create({ model: "claude-fast", inputJsonl: enc.encode(`${chatLine("ok", "q")}\n${bad}`), endpoint: "/v1/chat/completions", completionWindow: "24h" })).rejects.toThrow(/line 2 \(custom_id 'e1'\)/);
    await expect(batches.create({ model: "claude-fast", inputJsonl: enc.encode(chatLine("ok", "q")), endpoint: "/v1/embeddings", completionWindow: "24h" })).rejects.toMatchObject({ code: Code.InvalidArgument });
    expect((await anthropic.messages.batches.list({ limit: 1000 })).data.length).toBe(before);
    await expect(batches.get("claude-fast", "msgbatch_missing")).rejects.toMatchObject({ code: Code.NotFound });
  });
});

describe("ProviderBatches on an OpenAI deployment", () => {
  it("passes metadata through, finds a batch by a metadata key after others were created, cancels", async () => {
    const d = new Map([["gpt-cheap", deployment("gpt-cheap", "openai", slowSim.url, "gpt-4o-mini")]]);
    const batches = new ProviderBatches((m) => d.get(m));
    const make = async (key: string) =>
      obj((await batches.create({ model: "gpt-cheap", inputJsonl: enc.encode(chatLine("a", "q")), endpoint: "/v1/chat/completions", completionWindow: "24h", metadata: { llmgw_key: key } })).batchJson);
    const target = await make("wanted");
    for (let i = 0; i < 3; i++) await make(`other-${i}`);
    expect(target.metadata).toEqual({ llmgw_key: "wanted" });
    const found = await batches.find("gpt-cheap", "llmgw_key", "wanted");
    expect(found && obj(found).id).toBe(target.id);
    expect(await batches.find("gpt-cheap", "llmgw_key", "never-made")).toBeUndefined();
    expect(obj(await batches.cancel("gpt-cheap", target.id)).status).toBe("cancelled");
  });
});

describe("ProviderBatches on a provider without a batch API (batch_api: false)", () => {
  it("refuses with FailedPrecondition before calling the provider, so the caller runs those lines live", async () => {
    const d = new Map([["local-small", { ...deployment("local-small", "openai", sim.url, "gpt-4o-mini"), batchApi: false }]]);
    const batches = new ProviderBatches((m) => d.get(m));
    const openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: "x", maxRetries: 0 });
    const before = (await openai.batches.list({ limit: 100 })).data.length;
    await expect(batches.create({ model: "local-small", inputJsonl: enc.encode(chatLine("a", "q")), endpoint: "/v1/chat/completions", completionWindow: "24h" })).rejects.toMatchObject({ code: Code.FailedPrecondition });
    expect((await openai.batches.list({ limit: 100 })).data.length).toBe(before);
  });
});
