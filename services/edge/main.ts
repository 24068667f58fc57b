// The edge as its own process (mesh mode): REST in front, gRPC clients behind, NATS for events.
import { connectNatsBus } from "#libs/bus/connect-nats.ts";
import { loadConfig } from "#libs/config/load.ts";
import { createLogger } from "#libs/log/logger.ts";
import { createRegistry } from "#libs/metrics/registry.ts";
import { loadPriceTable } from "#libs/pricing/index.ts";
import { buildEdgeApp } from "./app.ts";
import { meshClients } from "./clients.ts";
import { tablePricing } from "./pricing.ts";

const logger = createLogger("edge");
try {
  const config = loadConfig();
  const registry = createRegistry("edge");
  const nats = await connectNatsBus(process.env, logger, "llmgw-edge");
  const edge = buildEdgeApp({
    config,
    clients: meshClients(config),
    events: nats.bus,
    pricing: tablePricing(loadPriceTable()),
    logger,
    registry,
    ready: async () => nats.connected(),
  });
  const address = await edge.app.listen({ port: config.edge.port, host: config.edge.host });
  logger.info({ address }, "edge listening");
  const stop = async (signal: string) => {
    logger.info({ signal }, "edge draining");
    await edge.drain(10_000);
    await nats.close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
} catch (e) {
  logger.fatal({ err: e instanceof Error ? e.message : String(e) }, "edge failed to start");
  process.exit(1);
}
