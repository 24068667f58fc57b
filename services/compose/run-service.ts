// The body of every mesh process's main.ts: read config and settings (the only place a mesh process
// reads its environment), open the mesh backends, reach peers over gRPC, serve one row of the table
// (or the edge), and drain on SIGTERM/SIGINT. Fails fast: a bad config or an unreachable required
// dependency stops the process with a clear message.
import { loadConfig } from "#libs/config/load.ts";
import { rpcDeadlineMs } from "#libs/config/resilience.ts";
import type { Config } from "#libs/config/schema.ts";
import { readSettings, type Env, type Settings } from "#libs/config/settings.ts";
import { createLogger, type Logger } from "#libs/log/logger.ts";
import { createRegistry } from "#libs/metrics/registry.ts";
import { loadPriceTable } from "#libs/pricing/index.ts";
import { startTracing } from "#libs/tracing/tracing.ts";
import { meshClients } from "#libs/rpc/mesh-client.ts";
import type { ServiceName } from "#libs/rpc/service-clients.ts";
import { exitOnSignals } from "#libs/server/rpc-server.ts";
import type { Backends } from "./backends.ts";
import { meshBackends } from "./mesh-backends.ts";
import { serveRow } from "./serve-row.ts";
import { startupDone } from "../../bin/heap-policy.mjs";
import type { ServiceContext } from "./table.ts";

interface ProcessParts {
  config: Config;
  settings: Settings;
  logger: Logger;
  backends: Backends;
}

async function start(name: string, env: Env, run: (p: ProcessParts) => Promise<() => Promise<void>>): Promise<void> {
  let logger = createLogger(name);
  try {
    const config = loadConfig({ env });
    const settings = readSettings(env, config);
    logger = createLogger(name, { level: settings.log.level, redact: !settings.log.prompts });
    // One service per process: its spans carry its own service.name.
    const tracing = startTracing(settings.tracing, `llmgw-${name}`);
    const backends = meshBackends(settings, logger, config);
    const stop = await run({ config, settings, logger, backends });
    startupDone();
    exitOnSignals(async () => {
      await stop();
      await backends.close();
      await tracing.stop();
    }, logger);
  } catch (e) {
    logger.fatal({ err: e instanceof Error ? e.message : String(e) }, `${name} failed to start`);
    process.exit(1);
  }
}

function context(p: ProcessParts): Omit<ServiceContext, "registry"> {
  return { ...p, prices: loadPriceTable(p.settings.pricesFile), clients: meshClients(p.config.services, p.settings.rpcClient, rpcDeadlineMs(p.config)) };
}

/** A gRPC service's process. */
export function runService(name: ServiceName, env: Env): Promise<void> {
  return start(name, env, async (p) => {
    const addr = p.config.services[name];
    const { running } = await serveRow(name, context(p), { rpcPort: addr.rpc_port, adminPort: addr.admin_port });
    return running.stop;
  });
}

/** The REST edge's process. */
export function runEdge(env: Env): Promise<void> {
  return start("edge", env, async (p) => {
    // Imported here: a service's process does not load the edge's code (Fastify, the routes).
    const { buildEdge } = await import("#services/edge/build.ts");
    const edge = await buildEdge({ ...context(p), registry: createRegistry("edge") });
    const address = await edge.app.listen({ port: p.config.edge.port, host: p.config.edge.host });
    p.logger.info({ address }, "edge listening");
    return () => edge.drain(10_000);
  });
}
