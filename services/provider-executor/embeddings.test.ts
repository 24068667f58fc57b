// The executor's Embed RPC through Connect, against the project's simulator (a real HTTP server):
// success with usage, a transient failure retried, a permanent one not, and refusals before any call.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { Registry } from "prom-client";
import { loadConfig } from "#libs/config/load.ts";
import { ExecutorService } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { startSimulator, type Simulator } from "#libs/simulator/server.ts";
import { ExecutorEngine } from "./domain/engine.ts";
import { ProviderEmbeddings } from "./embeddings.ts";
import { ExecutorServiceImpl } from "./service.ts";

let sim: Simulator;
let client: Client<typeof ExecutorService>;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

beforeAll(async () => {
  sim = await startSimulator({ port: 0 });
  const config = loadConfig({ env: {} });
  const engine = new ExecutorEngine({ config, env: {}, providerBaseUrlOverride: (id) => (config.providers[id]?.type === "openai" ? `${sim.url}/v1` : sim.url), registry: new Registry() });
  const embeddings = new ProviderEmbeddings({ config, deployment: (m) => engine.deployment(m), backoff: { baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 1_000 } });
  client = createClient(ExecutorService, createRouterTransport((r) => r.service(ExecutorService, new ExecutorServiceImpl(engine, embeddings))));
});
afterAll(async () => {
  await sim?.close();
});
afterEach(() => sim.clearFaults());

const embed = (model: string, body: Record<string, unknown>) => client.embed({ context: { requestId: "r1", tenantId: "t" }, model, requestJson: encoder.encode(JSON.stringify(body)) });

describe("Embed", () => {
  it("returns the provider's list in base64 with the gateway's model id, usage and one ok attempt", async () => {
    const res = await embed("text-embedding-3-small", { input: ["a cat", "a dog"], dimensions: 64 });
    expect(res.failure).toBeUndefined();
    const body = JSON.parse(decoder.decode(res.responseJson)) as { model: string; data: { embedding: string }[]; usage: { prompt_tokens: number } };
    expect(body.model).toBe("text-embedding-3-small");
    expect(body.data).toHaveLength(2);
    expect(Buffer.from(body.data[0]?.embedding ?? "", "base64").byteLength).toBe(64 * 4);
    expect(Number(res.summary?.usage?.inputTokens)).toBe(body.usage.prompt_tokens);
    expect(res.summary?.attempts.map((a) => a.status)).toEqual(["ok"]);
  });

  it("retries a 429 on the same model and records both attempts", async () => {
    sim.addFault({ model: "text-embedding-3-small", status: 429, count: 1 });
    const res = await embed("text-embedding-3-small", { input: "retry me" });
    expect(res.failure).toBeUndefined();
    expect(res.summary?.attempts.map((a) => a.status)).toEqual(["error", "ok"]);
  });

  it("does not retry a 400, and answers it in the OpenAI shape", async () => {
    sim.addFault({ model: "text-embedding-3-small", status: 400, count: 1 });
    const res = await embed("text-embedding-3-small", { input: "bad" });
    expect(res.failure?.httpStatus).toBe(400);
    expect(res.failure?.attempts).toHaveLength(1);
  });

  it("refuses an unknown model and a model of a provider without embeddings, calling nobody", async () => {
    const before = sim.stats().requests;
    expect((await embed("nope", { input: "x" })).failure?.httpStatus).toBe(404);
    const anthropic = await embed("claude-3-5-haiku-latest", { input: "x" });
    expect(anthropic.failure?.httpStatus).toBe(400);
    expect(anthropic.failure?.param).toBe("model");
    expect(sim.stats().requests).toBe(before);
  });
});
