// The mesh in one test process: every row of the service table behind its own real gRPC server (h2c
// on loopback), the edge calling them over the network, NATS JetStream, Redis and PostgreSQL as real
// servers. Tests and the benchmark use it; `npm run mesh` runs the same rows as separate processes.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { connect } from "nats";
import pg from "pg";
import { cacheIndexNames } from "#libs/bus/provision.ts";
import type { BusNames } from "#libs/bus/subjects.ts";
import { loadConfig } from "#libs/config/load.ts";
import { rpcDeadlineMs } from "#libs/config/resilience.ts";
import { cloneConfig, type Config } from "#libs/config/schema.ts";
import { readSettings, type Env, type Settings } from "#libs/config/settings.ts";
import { createLogger, type Logger } from "#libs/log/logger.ts";
import { createRegistry } from "#libs/metrics/registry.ts";
import { loadPriceTable } from "#libs/pricing/index.ts";
import { meshClients } from "#libs/rpc/mesh-client.ts";
import { startTracing } from "#libs/tracing/tracing.ts";
import type { ServiceClients } from "#libs/rpc/service-clients.ts";
import { meshBackends } from "#services/compose/mesh-backends.ts";
import { serveRow } from "#services/compose/serve-row.ts";
import { SERVICE_ORDER, type BuiltServices } from "#services/compose/table.ts";
import type { EdgeApp } from "#services/edge/app.ts";
import { buildEdge } from "#services/edge/build.ts";
import { startupDone } from "../../bin/heap-policy.mjs";
import { deleteMatching } from "#libs/redis/delete-matching.ts";

export interface MeshOptions {
  config?: Config;
  env?: Env;
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
  clients: ServiceClients;
  edge: EdgeApp;
  ledger: BuiltServices["ledger"];
  addresses: Record<string, string>;
  /** Each service's admin server (/healthz, /readyz, /metrics): http://127.0.0.1:PORT. */
  adminUrls: Record<string, string>;
  stop(): Promise<void>;
  /**
   * After stop: removes what this namespace left on the shared servers (schema, stream, keys).
   * `servers` replaces the addresses the mesh used (a test that ran it through a fault proxy).
   */
  purge(servers?: Partial<Pick<Settings, "databaseUrl" | "natsUrl" | "redisUrl">>): Promise<void>;
}

export async function startMesh(opts: MeshOptions): Promise<Mesh> {
  const ns = opts.namespace ?? `t${randomUUID().slice(0, 8)}`;
  const config: Config = cloneConfig(opts.config ?? loadConfig({ env: {} }));
  const logger = opts.logger ?? createLogger("mesh");
  const base = readSettings(opts.env ?? {}, config);
  const settings: Settings = {
    ...base,
    simulatorUrl: opts.simulatorUrl,
    databaseUrl: opts.databaseUrl ?? base.databaseUrl ?? "postgres://postgres@127.0.0.1:5432/test",
    databaseSchema: `llmgw_${ns}`,
    cachePrefix: `llmgw:${ns}:cache`,
    budgetPrefix: `llmgw:${ns}:`,
    bus: { stream: `LLMGW_${ns.toUpperCase()}`, prefix: `llmgw.${ns}` },
  };
  const backends = meshBackends(settings, logger, config);
  const tracing = startTracing(settings.tracing, "llmgw-mesh");
  // Peers are reached at config.services[*].address, filled in below as each server starts on port 0.
  const clients = meshClients(config.services, settings.rpcClient, rpcDeadlineMs(config));
  const ctx = { config, settings, logger, prices: loadPriceTable(settings.pricesFile), backends, clients };
  const stops: (() => Promise<void>)[] = [];
  const addresses: Record<string, string> = {};
  const adminUrls: Record<string, string> = {};
  const built: Partial<BuiltServices> = {};
  for (const name of SERVICE_ORDER) {
    const served = await serveRow(name, ctx, { host: "127.0.0.1", rpcPort: 0, adminPort: 0, drainTimeoutMs: 2_000, defaultMetrics: false });
    Object.assign(built, { [name]: served.built });
    const address = `127.0.0.1:${served.running.rpcPort}`;
    config.services[name] = { ...config.services[name], address, rpc_port: served.running.rpcPort, admin_port: served.running.adminPort };
    addresses[name] = address;
    adminUrls[name] = `http://127.0.0.1:${served.running.adminPort}`;
    stops.push(served.running.stop);
  }
  const ledger = built.ledger;
  if (!ledger) throw new Error("the service table has no ledger");

  const edge = await buildEdge({ ...ctx, logger: logger.child({ service: "edge" }), registry: createRegistry("edge", { defaults: false }) });
  await edge.app.listen({ port: opts.edgePort ?? 0, host: "127.0.0.1" });
  const addr = edge.app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  startupDone();

  return {
    url: `http://127.0.0.1:${port}`,
    namespace: ns,
    busNames: settings.bus,
    ledgerSchema: settings.databaseSchema,
    clients,
    edge,
    ledger,
    addresses,
    adminUrls,
    async stop() {
      await edge.drain(5_000);
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
      await backends.close();
      await tracing.stop();
    },
    purge: (servers) => purgeNamespace({ ...settings, ...servers }, ns),
  };
}

async function purgeNamespace(settings: Settings, ns: string): Promise<void> {
  const db = new pg.Client({ connectionString: settings.databaseUrl });
  await db.connect();
  try {
    await db.query(`DROP SCHEMA IF EXISTS "${settings.databaseSchema}" CASCADE`);
  } finally {
    await db.end();
  }
  const nc = await connect({ servers: settings.natsUrl });
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(settings.bus.stream).catch(() => false);
    await jsm.streams.delete(cacheIndexNames(settings.bus).stream).catch(() => false);
  } finally {
    await nc.close();
  }
  const redis = new Redis(settings.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    await deleteMatching(redis, `llmgw:${ns}:*`);
  } finally {
    redis.disconnect();
  }
}
