// Embedded mode: every service of the table in one process, reached through in-process clients
// (no sockets, no serialization), over the embedded backends (PGlite, in-process bus, memory stores),
// with the bundled simulator for providers without a key.
import type { DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { MemoryEventBus } from "#libs/bus/memory-bus.ts";
import { loadConfig } from "#libs/config/load.ts";
import type { Config } from "#libs/config/schema.ts";
import { needsSimulator, readSettings, type Env, type Settings } from "#libs/config/settings.ts";
import { createLogger, type Logger } from "#libs/log/logger.ts";
import { createRegistry, rpcMetrics, type Registry } from "#libs/metrics/registry.ts";
import { loadPriceTable } from "#libs/pricing/index.ts";
import { directClients } from "#libs/rpc/direct-client.ts";
import { instrument } from "#libs/rpc/instrument.ts";
import type { ServiceClients } from "#libs/rpc/service-clients.ts";
import { startSimulator, type Simulator } from "#libs/simulator/server.ts";
import { startTracing } from "#libs/tracing/tracing.ts";
import { embeddedBackends } from "#services/compose/embedded-backends.ts";
import { buildRow, SERVICE_ORDER, type BuiltServices, type ServiceContext } from "#services/compose/table.ts";
import type { EdgeApp } from "#services/edge/app.ts";
import { buildEdge } from "#services/edge/build.ts";
import { startupDone } from "../../bin/heap-policy.mjs";

export interface EmbeddedOptions {
  config?: Config;
  /** Environment to read settings from (main.ts passes the process's). */
  env?: Env;
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
  clients: ServiceClients;
  bus: MemoryEventBus;
  edge: EdgeApp;
  stop(): Promise<void>;
}

export async function startEmbedded(opts: EmbeddedOptions = {}): Promise<Embedded> {
  const env = opts.env ?? {};
  const config = opts.config ?? loadConfig({ env });
  let settings: Settings = { ...readSettings(env, config), ...(opts.dataDir ? { dataDir: opts.dataDir } : {}), ...(opts.simulatorUrl ? { simulatorUrl: opts.simulatorUrl } : {}) };
  const logger = opts.logger ?? createLogger("llmgw", { level: settings.log.level, redact: !settings.log.prompts });
  let simulator: Simulator | undefined;
  if (!settings.simulatorUrl && needsSimulator(config, settings)) {
    simulator = await startSimulator({ port: 0, latencyMs: settings.simulator.latencyMs, tokensPerSecond: settings.simulator.tokensPerSecond });
    settings = { ...settings, simulatorUrl: simulator.url };
  }

  // Before any service is wired: instrumentation decides on tracing when it wraps a service.
  const tracing = startTracing(settings.tracing, "llmgw");
  const registry = createRegistry("llmgw");
  const metrics = rpcMetrics(registry);
  const backends = embeddedBackends(settings);
  const built: Partial<BuiltServices> = {};
  // Each in-process call goes through the same instrumentation as a gRPC server's.
  const clients = directClients((name) => {
    const b = built[name];
    return b && (instrument<DescService>(b.service, b.impl as ServiceImpl<DescService>, metrics, { logger: logger.child({ service: name }), level: "debug" }));
  });
  const ctx: ServiceContext = { config, settings, logger, registry, prices: loadPriceTable(settings.pricesFile), backends, clients };
  for (const name of SERVICE_ORDER) Object.assign(built, { [name]: await buildRow(name, ctx) });
  const ledger = built.ledger;
  // No key given: the first start creates one admin key and prints it (embedded owns the console).
  const created = ledger && !settings.bootstrapApiKey ? await ledger.keys.ensureBootstrapKey() : undefined;

  const edge = await buildEdge({ ...ctx, logger: logger.child({ service: "edge" }) });
  const host = opts.host ?? config.edge.host;
  await edge.app.listen({ port: opts.port ?? config.edge.port, host });
  const addr = edge.app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : config.edge.port;
  startupDone();

  return {
    url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`,
    port,
    ...(created ? { createdAdminKey: created.key } : {}),
    ...(simulator ? { simulator } : {}),
    registry,
    clients,
    bus: backends.memoryBus,
    edge,
    async stop() {
      await edge.drain(5_000);
      // Services stop after the edge has flushed its events, so the ledger commits them.
      for (const name of [...SERVICE_ORDER].reverse()) await built[name]?.close().catch((e: unknown) => logger.warn({ err: String(e), service: name }, "close failed"));
      await backends.close();
      await simulator?.close();
      await tracing.stop();
    },
  };
}
