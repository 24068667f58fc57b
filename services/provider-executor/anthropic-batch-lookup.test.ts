// FindBatch for an Anthropic deployment against the simulator through @anthropic-ai/sdk: a batch is
// recognised by its custom_id prefix once it has ended, "pending" while it runs, absent when no candidate
// can be it, and Unimplemented without a prefix (the caller must not take "none" for an answer).
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "#libs/simulator/server.ts";
import { ProviderBatches } from "./batches.ts";
import type { Deployment } from "./domain/deployments.ts";

let sim: Simulator;
const enc = new TextEncoder();
const dec = new TextDecoder();

beforeAll(async () => {
  sim = await startSimulator({ port: 29411, batchDelayMs: 600 });
});
afterAll(async () => {
  await sim.close();
});

const dep: Deployment = {
  model: "claude-gw",
  providerId: "anthropic",
  providerType: "anthropic",
  baseURL: "",
  apiKey: "sim-key",
  upstreamModel: "claude-3-5-haiku-latest",
  contextWindow: 200_000,
  maxOutputTokens: 256,
  capabilities: new Set(),
  maxConcurrency: 10,
  queue: null,
};
const lines = (ids: string[]) => enc.encode(ids.map((id) => JSON.stringify({ custom_id: id, method: "POST", url: "/v1/chat/completions", body: { model: "x", messages: [{ role: "user", content: `q ${id}` }] } })).join("\n"));

describe("ProviderBatches.lookup on an Anthropic deployment", () => {
  it("pending while the batch runs, found by prefix once it ended; absent for another prefix; Unimplemented without one", async () => {
    const batches = new ProviderBatches((m) => (m === "claude-gw" ? { ...dep, baseURL: sim.url } : undefined));
    const since = Math.floor(Date.now() / 1000) - 5;
    const created = JSON.parse(dec.decode((await batches.create({ model: "claude-gw", inputJsonl: lines(["feedc0de00000001-l0", "feedc0de00000001-l1"]), endpoint: "/v1/chat/completions", completionWindow: "24h" })).batchJson)) as { id: string };
    await batches.create({ model: "claude-gw", inputJsonl: lines(["someone-else"]), endpoint: "/v1/chat/completions", completionWindow: "24h" });
    const hint = { customIdPrefix: "feedc0de00000001-", createdAfterSec: since };

    expect(await batches.lookup("claude-gw", "k", "v", hint)).toBe("pending");
    await new Promise((r) => setTimeout(r, 700));
    const found = await batches.lookup("claude-gw", "k", "v", hint);
    expect(found === undefined || found === "pending" ? found : (JSON.parse(dec.decode(found)) as { id: string; status: string })).toMatchObject({ id: created.id, status: "completed" });
    expect(await batches.lookup("claude-gw", "k", "v", { ...hint, customIdPrefix: "feedc0de00000002-" })).toBeUndefined();
    await expect(batches.lookup("claude-gw", "k", "v")).rejects.toMatchObject({ code: Code.Unimplemented });
  });
});
