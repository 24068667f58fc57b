// Builds the REST edge from its peers' clients, the event bus and the process's price table.
import type { EventBus } from "#libs/bus/event-bus.ts";
import type { ServiceClients } from "#libs/rpc/service-clients.ts";
import type { BuildContext } from "#libs/server/service-parts.ts";
import { buildEdgeApp, type EdgeApp } from "./app.ts";
import { tablePricing } from "./pricing.ts";
import { followRevocations } from "./revocations.ts";

export interface EdgeBackends {
  bus(client: string): Promise<EventBus>;
  healthy(): boolean;
}

export async function buildEdge(ctx: BuildContext<EdgeBackends, ServiceClients>): Promise<EdgeApp> {
  const events = await ctx.backends.bus("llmgw-edge");
  const edge = buildEdgeApp({
    config: ctx.config,
    clients: ctx.clients,
    events,
    pricing: tablePricing(ctx.prices),
    logger: ctx.logger,
    registry: ctx.registry,
    ready: async () => ctx.backends.healthy(),
    ...(ctx.settings.metricsToken ? { metricsToken: ctx.settings.metricsToken } : {}),
  });
  followRevocations(events, edge.auth, ctx.logger);
  return edge;
}
