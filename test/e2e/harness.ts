// One gateway for end-to-end tests, in either run mode, behind the same small interface, so a test
// table can run against embedded and mesh alike (describe.each over MODES). Mesh runs are isolated
// by namespace and their PostgreSQL schema, NATS stream and Redis keys are removed on stop.
import { Writable } from "node:stream";
import { pino } from "pino";
import { loadConfig } from "#libs/config/load.ts";
import type { Config } from "#libs/config/schema.ts";
import { silentLogger, type Logger } from "#libs/log/logger.ts";
import { startSimulator, type Simulator, type SimulatorOptions } from "#libs/simulator/server.ts";
import type { EdgeApp } from "#services/edge/app.ts";
import type { EdgeClients } from "#services/edge/deps.ts";
import { startEmbedded } from "#services/embedded/compose.ts";
import { startMesh, type Mesh } from "#services/mesh/compose.ts";

export type Mode = "embedded" | "mesh";
export const MODES: readonly Mode[] = ["embedded", "mesh"];

export const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
/** The real servers, for cleanup even when a test routed the mesh through a fault proxy. */
const REAL_SERVERS = { databaseUrl: DATABASE_URL, redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379", natsUrl: process.env.NATS_URL ?? "nats://127.0.0.1:4222" };
const EMBEDDED_ADMIN_KEY = "llmgw-e2e-admin-key-0123456789";

export interface Gateway {
  mode: Mode;
  url: string;
  adminKey: string;
  sim: Simulator;
  clients: EdgeClients;
  edge: EdgeApp;
  /** Present in mesh mode only. */
  mesh?: Mesh;
  createKey(tenantId: string, admin?: boolean): Promise<string>;
  stop(): Promise<void>;
}

export interface GatewayOptions {
  config?: Config;
  env?: Record<string, string | undefined>;
  logger?: Logger;
  /** Simulator pacing and latency (default: instant answers). */
  sim?: SimulatorOptions;
}

/** The deployed config with settings that keep fault tests fast and independent of each other. */
export function testConfig(tweak?: (c: Config) => void): Config {
  const c = loadConfig({ env: {} });
  // A breaker opened by one fault test must not turn the next test's 502 into a 503.
  c.executor.breaker_failures = 1_000;
  tweak?.(c);
  return c;
}

export async function startGateway(mode: Mode, opts: GatewayOptions = {}): Promise<Gateway> {
  const sim = await startSimulator({ ...opts.sim, port: 0 });
  const logger = opts.logger ?? silentLogger();
  const config = opts.config ?? testConfig();
  try {
    if (mode === "embedded") {
      const e = await startEmbedded({ port: 0, host: "127.0.0.1", dataDir: "memory", simulatorUrl: sim.url, config, env: { LLMGW_API_KEY: EMBEDDED_ADMIN_KEY, ...opts.env }, logger });
      const createKey = async (tenantId: string, admin = false) => (await e.clients.ledger.createKey({ tenantId, name: "e2e", admin })).key;
      return {
        mode,
        url: e.url,
        adminKey: e.createdAdminKey ?? EMBEDDED_ADMIN_KEY,
        sim,
        clients: e.clients,
        edge: e.edge,
        createKey,
        async stop() {
          await e.stop();
          await sim.close();
        },
      };
    }
    const m = await startMesh({ simulatorUrl: sim.url, logger, env: { ...opts.env }, config });
    const createKey = async (tenantId: string, admin = false) => (await m.ledger.keys.create({ tenantId, admin })).key;
    return {
      mode,
      url: m.url,
      adminKey: await createKey("llmgw-admin", true),
      sim,
      clients: m.clients,
      edge: m.edge,
      mesh: m,
      createKey,
      async stop() {
        await m.stop();
        await sim.close();
        await m.purge(REAL_SERVERS);
      },
    };
  } catch (e) {
    await sim.close();
    throw e;
  }
}


/** A pino logger whose JSON lines are kept in memory, for assertions on what services log. */
export function capturingLogger(level = "debug"): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const raw: string[] = [];
  let partial = "";
  const sink = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      const text = partial + (typeof chunk === "string" ? chunk : chunk.toString("utf8"));
      const parts = text.split("\n");
      partial = parts.pop() ?? "";
      raw.push(...parts.filter((p) => p.length > 0));
      cb();
    },
  });
  const logger = pino({ level }, sink);
  const lines = () =>
    raw.flatMap((l) => {
      try {
        const v: unknown = JSON.parse(l);
        return typeof v === "object" && v !== null ? [v as Record<string, unknown>] : [];
      } catch {
        return [];
      }
    });
  return { logger, lines };
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const { createServer } = await import("node:net");
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const addr = srv.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
