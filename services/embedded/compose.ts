// Embedded mode: every service in one process, wired through the same generated service interfaces
// with in-process clients (no sockets, no serialization); PGlite instead of PostgreSQL, an in-process
// bus instead of NATS, in-memory caches and budgets, and the simulator for providers without a key.
import type { DescService } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { MemoryEventBus } from "#libs/bus/memory-bus.ts";
import { loadConfig } from "#libs/config/load.ts";
import type { Config } from "#libs/config/schema.ts";
import { createLogger, type Logger } from "#libs/log/logger.ts";
import { createRegistry, rpcMetrics, type Registry } from "#libs/metrics/registry.ts";
import { loadPriceTable } from "#libs/pricing/index.ts";
import { createDirectClient } from "#libs/rpc/direct-client.ts";
import { instrument } from "#libs/rpc/instrument.ts";
import type { BuildContext, BuiltService } from "#libs/server/service-parts.ts";
import { startSimulator, type Simulator } from "#libs/simulator/server.ts";
import { buildCacheService } from "#services/cache/build.ts";
import { buildClassifierService } from "#services/classifier/build.ts";
import { buildEdgeApp, type EdgeApp } from "#services/edge/app.ts";
import type { EdgeClients } from "#services/edge/deps.ts";
import { tablePricing } from "#services/edge/pricing.ts";
import { buildEvaluatorService } from "#services/evaluator/build.ts";
import { buildLedgerService } from "#services/ledger/build.ts";
import { buildExecutorService } from "#services/provider-executor/build.ts";
import { buildRouterService } from "#services/router/build.ts";

export interface EmbeddedOptions {
  config?: Config;
  env?: Record<string, string | undefined>;
  port?: number;
  host?: string;
  /** PGlite directory, or "memory" for a throwaway ledger (tests, benchmarks). */
  dataDir?: string;
  logger?: Logger;
  /** Simulator base URL to use instead of starting one (shared by tests). */
  simulatorUrl?: string;
}

export interface Embedded {
  url: string;
  port: number;
  /** The bootstrap admin key, only when this start created it. */
  createdAdminKey?: string;
  simulator?: Simulator;
  registry: Registry;
  clients: EdgeClients;
  bus: MemoryEventBus;
  edge: EdgeApp;
  stop(): Promise<void>;
}

export function needsSimulator(config: Config, env: Record<string, string | undefined>): boolean {
  return Object.values(config.providers).some((p) => p.simulate_without_key && !env[p.api_key_env]);
}

export async function startEmbedded(opts: EmbeddedOptions = {}): Promise<Embedded> {
  const env = opts.env ?? process.env;
  const config = opts.config ?? loadConfig({ env });
  const logger = opts.logger ?? createLogger("llmgw");
  const registry = createRegistry("llmgw");
  const metrics = rpcMetrics(registry);
  const closers: (() => Promise<void>)[] = [];

  let simulator: Simulator | undefined;
  let simulatorUrl = opts.simulatorUrl ?? env.LLMGW_SIMULATOR_URL;
  if (!simulatorUrl && needsSimulator(config, env)) {
    simulator = await startSimulator({ port: 0, latencyMs: Number(env.SIM_LATENCY_MS ?? 0), tokensPerSecond: Number(env.SIM_TPS ?? 0) });
    simulatorUrl = simulator.url;
    closers.push(() => simulator?.close() ?? Promise.resolve());
  }

  const bus = new MemoryEventBus();
  const ctx = (service: string): BuildContext => ({ config, logger: logger.child({ service }), registry, mode: "embedded", env });
  const direct = <S extends DescService>(b: BuiltService<S>, service: string): Client<S> => {
    closers.push(b.close);
    return createDirectClient(b.service, instrument(b.service, b.impl, metrics, { logger: logger.child({ service }), level: "debug" }));
  };

  const executorBuilt = await buildExecutorService(ctx("executor"), simulatorUrl);
  const executor = direct(executorBuilt, "executor");
  const classifier = direct(await buildClassifierService(ctx("classifier")), "classifier");
  const cache = direct(await buildCacheService(ctx("cache")), "cache");
  const router = direct(await buildRouterService(ctx("router"), executor), "router");
  const dataDir = opts.dataDir ?? env.LLMGW_DATA_DIR ?? "./data";
  const ledgerBuilt = await buildLedgerService(ctx("ledger"), { bus, databaseUrl: dataDir === "memory" ? "pglite:memory" : `pglite:${dataDir.replace(/\/$/, "")}/ledger` });
  const ledger = direct(ledgerBuilt, "ledger");
  const evaluator = direct(await buildEvaluatorService(ctx("evaluator"), { bus, executor }), "evaluator");
  const created = await ledgerBuilt.keys.ensureBootstrapKey(env.LLMGW_API_KEY);

  const clients: EdgeClients = { classifier, cache, router, executor, evaluator, ledger };
  const edge = buildEdgeApp({
    config,
    clients,
    events: bus,
    pricing: tablePricing(loadPriceTable(env.LLMGW_PRICES_FILE)),
    logger: logger.child({ service: "edge" }),
    registry,
    ready: () => ledgerBuilt.ready(),
  });
  const host = opts.host ?? config.edge.host;
  await edge.app.listen({ port: opts.port ?? config.edge.port, host });
  const addr = edge.app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : config.edge.port;
  const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;

  return {
    url,
    port,
    createdAdminKey: created?.key,
    simulator,
    registry,
    clients,
    bus,
    edge,
    async stop() {
      await edge.drain(5_000);
      // Services close after the edge has flushed its events, ledger last so it can commit them.
      for (const close of closers.reverse()) await close().catch((e: unknown) => logger.warn({ err: String(e) }, "close failed"));
      await bus.close();
    },
  };
}
