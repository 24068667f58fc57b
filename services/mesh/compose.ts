// The mesh in one test process: every service behind its own real gRPC server (h2c on loopback),
// the edge calling them over the network, NATS JetStream, Redis and PostgreSQL as real servers.
// Tests and the benchmark use it; `npm run mesh` runs the same services as separate processes.
import { randomUUID } from "node:crypto";
import type { DescService } from "@bufbuild/protobuf";
import { connectNatsBus } from "#libs/bus/connect-nats.ts";
import type { BusNames } from "#libs/bus/subjects.ts";
import { loadConfig } from "#libs/config/load.ts";
import type { Config } from "#libs/config/schema.ts";
import { ExecutorService } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { createLogger, type Logger } from "#libs/log/logger.ts";
import { createRegistry, rpcMetrics } from "#libs/metrics/registry.ts";
import { loadPriceTable } from "#libs/pricing/index.ts";
import { instrument } from "#libs/rpc/instrument.ts";
import { createMeshClient } from "#libs/rpc/mesh-client.ts";
import { startRpcService } from "#libs/server/rpc-server.ts";
import type { BuildContext, BuiltService } from "#libs/server/service-parts.ts";
import { buildCacheService } from "#services/cache/build.ts";
import { buildClassifierService } from "#services/classifier/build.ts";
import { buildEdgeApp, type EdgeApp } from "#services/edge/app.ts";
import { meshClients } from "#services/edge/clients.ts";
import type { EdgeClients } from "#services/edge/deps.ts";
import { tablePricing } from "#services/edge/pricing.ts";
import { buildEvaluatorService } from "#services/evaluator/build.ts";
import { buildLedgerService, type BuiltLedger } from "#services/ledger/build.ts";
import { buildExecutorService } from "#services/provider-executor/build.ts";
import { buildRouterService } from "#services/router/build.ts";

export interface MeshOptions {
  config?: Config;
  env?: Record<string, string | undefined>;
  simulatorUrl: string;
  /** Isolates this mesh's stream, Redis keys and ledger schema from others on the same servers. */
  namespace?: string;
  databaseUrl?: string;
  logger?: Logger;
  edgePort?: number;
}

export interface Mesh {
  url: string;
  namespace: string;
  busNames: BusNames;
  ledgerSchema: string;
  clients: EdgeClients;
  edge: EdgeApp;
  ledger: BuiltLedger;
  addresses: Record<string, string>;
  stop(): Promise<void>;
}

export async function startMesh(opts: MeshOptions): Promise<Mesh> {
  const ns = opts.namespace ?? `t${randomUUID().slice(0, 8)}`;
  const env: Record<string, string | undefined> = { ...(opts.env ?? process.env), LLMGW_CACHE_PREFIX: `llmgw:${ns}:cache`, LLMGW_BUDGET_PREFIX: `llmgw:${ns}:` };
  const config: Config = structuredClone(opts.config ?? loadConfig({ env: {} }));
  const logger = opts.logger ?? createLogger("mesh");
  const busNames: BusNames = { stream: `LLMGW_${ns.toUpperCase()}`, prefix: `llmgw.${ns}` };
  const stops: (() => Promise<void>)[] = [];
  const addresses: Record<string, string> = {};

  const serve = async <S extends DescService>(name: keyof Config["services"], build: (ctx: BuildContext) => Promise<BuiltService<S>>): Promise<BuiltService<S>> => {
    const registry = createRegistry(name, { defaults: false });
    const log = logger.child({ service: name });
    const built = await build({ config, logger: log, registry, mode: "mesh", env });
    const running = await startRpcService({
      name,
      host: "127.0.0.1",
      rpcPort: 0,
      adminPort: 0,
      routes: (r) => r.service(built.service, instrument(built.service, built.impl, rpcMetrics(registry), { logger: log, level: "info" })),
      ready: built.ready,
      shutdown: built.close,
      logger: log,
      registry,
      drainTimeoutMs: 2_000,
    });
    config.services[name] = { ...config.services[name], address: `127.0.0.1:${running.rpcPort}`, rpc_port: running.rpcPort, admin_port: running.adminPort };
    addresses[name] = config.services[name].address;
    stops.push(running.stop);
    return built;
  };

  const buses: { close: () => Promise<void> }[] = [];
  const bus = async (name: string) => {
    const b = await connectNatsBus(env, logger, name, busNames);
    buses.push(b);
    return b.bus;
  };

  await serve("executor", (ctx) => buildExecutorService(ctx, opts.simulatorUrl));
  await serve("classifier", buildClassifierService);
  await serve("cache", buildCacheService);
  await serve("router", (ctx) => buildRouterService(ctx, createMeshClient(ExecutorService, config.services.executor.address)));
  const ledgerSchema = `llmgw_${ns}`;
  const ledger = (await serve("ledger", async (ctx) =>
    buildLedgerService(ctx, { bus: await bus("ledger"), databaseUrl: opts.databaseUrl ?? env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test", schema: ledgerSchema }),
  )) as BuiltLedger;
  await serve("evaluator", async (ctx) => buildEvaluatorService(ctx, { bus: await bus("evaluator"), executor: createMeshClient(ExecutorService, config.services.executor.address) }));

  const clients: EdgeClients = meshClients(config);
  const edgeBus = await bus("edge");
  const edge = buildEdgeApp({
    config,
    clients,
    events: edgeBus,
    pricing: tablePricing(loadPriceTable(env.LLMGW_PRICES_FILE)),
    logger: logger.child({ service: "edge" }),
    registry: createRegistry("edge", { defaults: false }),
    ready: async () => true,
  });
  await edge.app.listen({ port: opts.edgePort ?? 0, host: "127.0.0.1" });
  const addr = edge.app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;

  return {
    url: `http://127.0.0.1:${port}`,
    namespace: ns,
    busNames,
    ledgerSchema,
    clients,
    edge,
    ledger,
    addresses,
    async stop() {
      await edge.drain(5_000);
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
      for (const b of buses) await b.close().catch(() => undefined);
    },
  };
}
