// Shared body of every gRPC service's main.ts: config, logger, metrics, server, signals. Fails fast:
// a bad config or an unreachable required dependency stops the process with a clear message.
import type { DescService } from "@bufbuild/protobuf";
import { loadConfig } from "#libs/config/load.ts";
import type { Config } from "#libs/config/schema.ts";
import { createLogger } from "#libs/log/logger.ts";
import { createRegistry, rpcMetrics } from "#libs/metrics/registry.ts";
import { instrument } from "#libs/rpc/instrument.ts";
import type { BuildContext, BuiltService } from "./service-parts.ts";
import { exitOnSignals, startRpcService } from "./rpc-server.ts";

type ServiceName = keyof Config["services"];

export async function runServiceMain<S extends DescService>(name: ServiceName, build: (ctx: BuildContext) => Promise<BuiltService<S>>): Promise<void> {
  const logger = createLogger(name);
  try {
    const config = loadConfig();
    const registry = createRegistry(name);
    const built = await build({ config, logger, registry, mode: "mesh", env: process.env });
    const addr = config.services[name];
    const running = await startRpcService({
      name,
      rpcPort: addr.rpc_port,
      adminPort: addr.admin_port,
      routes: (router) => router.service(built.service, instrument(built.service, built.impl, rpcMetrics(registry), { logger, level: "info" })),
      ready: built.ready,
      shutdown: built.close,
      logger,
      registry,
    });
    exitOnSignals(running.stop, logger);
  } catch (e) {
    logger.fatal({ err: e instanceof Error ? e.message : String(e) }, `${name} failed to start`);
    process.exit(1);
  }
}
