// The embeddings pipeline's paths the e2e tests cannot provoke on demand, through in-process clients
// with typed fakes for the cache, ledger and executor (a Connect router transport) and a real
// MemoryEventBus: the budget store failing (each outage mode), and the executor RPC failing.
import { Code, ConnectError, createClient, createRouterTransport, type ServiceImpl } from "@connectrpc/connect";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { MemoryEventBus } from "#libs/bus/memory-bus.ts";
import { loadConfig } from "#libs/config/load.ts";
import type { BudgetOutageMode } from "#libs/config/resilience.ts";
import { GatewayError } from "#libs/errors/openai-error.ts";
import { CacheControl, CacheService } from "#libs/gen/llmgw/cache/v1/cache_pb.ts";
import { ExecutorService } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { LedgerService } from "#libs/gen/llmgw/ledger/v1/ledger_pb.ts";
import { silentLogger } from "#libs/log/logger.ts";
import { loadPriceTable } from "#libs/pricing/index.ts";
import type { EdgeClients, EdgeDeps } from "../deps.ts";
import { EventOutbox } from "../outbox.ts";
import { tablePricing } from "../pricing.ts";
import { embeddingsMetrics } from "./metrics.ts";
import { EmbeddingsPipeline } from "./pipeline.ts";

const encoder = new TextEncoder();
const f32 = (xs: number[]) => Buffer.from(Float32Array.from(xs).buffer).toString("base64");

interface World {
  pipeline: EmbeddingsPipeline;
  calls: { embed: number; settle: string[] };
}

function world(mode: BudgetOutageMode, opts: { ledgerDown?: boolean; executorDown?: boolean } = {}): World {
  const config = loadConfig({ env: {} });
  config.budgets.outage_mode = mode;
  const calls = { embed: 0, settle: [] as string[] };
  const cache: Partial<ServiceImpl<typeof CacheService>> = { lookup: () => ({ hit: false, reason: "miss" }), store: () => ({ stored: true }) };
  const ledger: Partial<ServiceImpl<typeof LedgerService>> = {
    reserveBudget: () => {
      if (opts.ledgerDown) throw new ConnectError("redis down", Code.Unavailable);
      return { admitted: true, state: "ok" };
    },
    settleBudget: (req) => {
      calls.settle.push(req.reservationId);
      return {};
    },
  };
  const executor: Partial<ServiceImpl<typeof ExecutorService>> = {
    embed: () => {
      calls.embed++;
      if (opts.executorDown) throw new ConnectError("executor gone", Code.Unavailable);
      const body = { object: "list", model: "text-embedding-3-small", data: [{ object: "embedding", index: 0, embedding: f32([0.6, 0.8]) }], usage: { prompt_tokens: 3, total_tokens: 3 } };
      return { responseJson: encoder.encode(JSON.stringify(body)), summary: { model: "text-embedding-3-small", provider: "openai", usage: { inputTokens: 3n }, attempts: [{ model: "text-embedding-3-small", provider: "openai", status: "ok", httpStatus: 200, usage: { inputTokens: 3n } }] } };
    },
  };
  const transport = createRouterTransport((r) => {
    r.service(CacheService, cache);
    r.service(LedgerService, ledger);
    r.service(ExecutorService, executor);
  });
  const clients = { cache: createClient(CacheService, transport), ledger: createClient(LedgerService, transport), executor: createClient(ExecutorService, transport) } as unknown as EdgeClients;
  const registry = new Registry();
  const bus = new MemoryEventBus();
  const deps: EdgeDeps = { config, clients, events: bus, pricing: tablePricing(loadPriceTable()), logger: silentLogger(), registry, ready: async () => true };
  return { pipeline: new EmbeddingsPipeline(deps, new EventOutbox(bus, silentLogger(), registry), embeddingsMetrics(registry)), calls };
}

const call = (id: string) => ({
  requestId: id,
  traceId: "t",
  receivedAt: new Date(),
  t0: performance.now(),
  auth: { tenantId: "acme", keyId: "k1", admin: false },
  body: { model: "text-embedding-3-small", input: "hello there" },
  cacheControl: CacheControl.DEFAULT,
});

describe("EmbeddingsPipeline", () => {
  it("answers floats from the provider's base64, with cost headers", async () => {
    const w = world("local");
    const r = await w.pipeline.handle(call("r1"));
    expect(r.body.data[0]?.embedding).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    expect(r.headers).toMatchObject({ "x-llmgw-model": "text-embedding-3-small", "x-llmgw-cache": "miss", "x-llmgw-cost-usd": "0.00000006" });
  });

  it("with the budget store down: outage_mode open admits unchecked, closed and local refuse with 503 before any provider call", async () => {
    const open = world("open", { ledgerDown: true });
    await expect(open.pipeline.handle(call("r2"))).resolves.toBeTruthy();
    expect(open.calls.embed).toBe(1);
    for (const mode of ["closed", "local"] as const) {
      const w = world(mode, { ledgerDown: true });
      const err = await w.pipeline.handle(call(`r-${mode}`)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).status).toBe(503);
      expect(w.calls.embed).toBe(0);
    }
  });

  it("gives the reservation back when the executor RPC fails (no RequestCompleted will settle it)", async () => {
    const w = world("local", { executorDown: true });
    await expect(w.pipeline.handle(call("r3"))).rejects.toBeInstanceOf(ConnectError);
    await new Promise((r) => setTimeout(r, 20));
    expect(w.calls.settle).toEqual(["r3"]);
  });
});
