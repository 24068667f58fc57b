// The executor's batch RPCs through Connect (in-process router transport) with the shipped config and the
// real engine, providers played by the simulator: the contract batches-core calls, for both provider types.
import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "#libs/config/load.ts";
import { ExecutorService } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { startSimulator, type Simulator } from "#libs/simulator/server.ts";
import { ExecutorEngine } from "./domain/engine.ts";
import { ExecutorServiceImpl } from "./service.ts";

let sim: Simulator;
let client: Client<typeof ExecutorService>;

beforeAll(async () => {
  sim = await startSimulator({ port: 22301 });
  const config = loadConfig({ env: {} });
  const engine = new ExecutorEngine({
    config,
    env: {},
    providerBaseUrlOverride: (id) => (config.providers[id]?.type === "openai" ? `${sim.url}/v1` : sim.url),
    registry: new Registry(),
  });
  client = createClient(ExecutorService, createRouterTransport((router) => router.service(ExecutorService, new ExecutorServiceImpl(engine))));
});
afterAll(async () => {
  await sim.close();
});

const enc = new TextEncoder();
const dec = new TextDecoder();
const ctx = { requestId: "r1", tenantId: "acme" };
const jsonl = (ids: string[]) => enc.encode(ids.map((id) => JSON.stringify({ custom_id: id, method: "POST", url: "/v1/chat/completions", body: { model: "x", messages: [{ role: "user", content: `question ${id}` }] } })).join("\n"));
const batch = (b: Uint8Array) => JSON.parse(dec.decode(b)) as { id: string; status: string; output_file_id: string | null; error_file_id: string | null; request_counts: { total: number; completed: number; failed: number }; metadata: Record<string, string> | null };

describe("executor batch RPCs", () => {
  it("Anthropic model: CreateBatch → GetBatch → GetBatchOutput in OpenAI format; FindBatch Unimplemented; CancelBatch", async () => {
    const model = "claude-3-5-haiku-latest";
    const created = await client.createBatch({ context: ctx, model, inputJsonl: jsonl(["l-0", "l-1-sim-fail"]), endpoint: "/v1/chat/completions", completionWindow: "24h", metadata: { llmgw_idempotency_key: "sub-1" } });
    expect(created.provider).toBe("anthropic");
    expect(batch(created.batchJson).metadata).toEqual({ llmgw_idempotency_key: "sub-1" });
    const done = batch((await client.getBatch({ context: ctx, model, providerBatchId: batch(created.batchJson).id })).batchJson);
    expect(done).toMatchObject({ status: "completed", request_counts: { total: 2, completed: 1, failed: 1 } });
    const out = dec.decode((await client.getBatchOutput({ context: ctx, model, providerFileId: done.output_file_id ?? "" })).content);
    expect(JSON.parse(out.trim())).toMatchObject({ custom_id: "l-0", response: { status_code: 200, body: { object: "chat.completion", model } }, error: null });
    const errs = dec.decode((await client.getBatchOutput({ context: ctx, model, providerFileId: done.error_file_id ?? "" })).content);
    expect(JSON.parse(errs.trim())).toMatchObject({ custom_id: "l-1-sim-fail", response: { status_code: 500 } });

    const find = await client.findBatch({ context: ctx, model, metadataKey: "llmgw_idempotency_key", metadataValue: "sub-1" }).catch((e: unknown) => e);
    expect(find).toBeInstanceOf(ConnectError);
    expect((find as ConnectError).code).toBe(Code.Unimplemented);
    // Cancelling an ended Anthropic batch is the provider's 400.
    await expect(client.cancelBatch({ context: ctx, model, providerBatchId: done.id })).rejects.toMatchObject({ code: Code.InvalidArgument });
  });

  it("OpenAI model: metadata round-trips and FindBatch finds the batch; unknown key → found = false", async () => {
    const model = "gpt-4o-mini";
    const created = batch((await client.createBatch({ context: ctx, model, inputJsonl: jsonl(["a"]), endpoint: "/v1/chat/completions", completionWindow: "24h", metadata: { llmgw_idempotency_key: "sub-2" } })).batchJson);
    const found = await client.findBatch({ context: ctx, model, metadataKey: "llmgw_idempotency_key", metadataValue: "sub-2" });
    expect(found.found).toBe(true);
    expect(batch(found.batchJson).id).toBe(created.id);
    expect((await client.findBatch({ context: ctx, model, metadataKey: "llmgw_idempotency_key", metadataValue: "nope" })).found).toBe(false);
  });
});
