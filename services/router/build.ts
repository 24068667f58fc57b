// Builds the router: policy from config plus the live stored policy version (reloaded without a
// restart), prices for ordering, executor health for breakers.
import type { Client } from "@connectrpc/connect";
import type { ExecutorService } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { RouterService } from "#libs/gen/llmgw/router/v1/router_pb.ts";
import type { BuildContext, BuiltService } from "#libs/server/service-parts.ts";
import type { MigrationSet } from "#libs/sql/migrate.ts";
import type { SqlClient } from "#libs/sql/sql-client.ts";
import { modelViews } from "./domain/models.ts";
import { SessionStore } from "./domain/sessions.ts";
import { HealthView } from "./health-view.ts";
import { LivePolicyView } from "./live-policy.ts";
import { RouterServiceImpl } from "./service.ts";
import { ROUTER_MIGRATIONS } from "./storage/migrations.ts";
import { PolicyStore } from "./storage/policy-store.ts";

export interface RouterBackends {
  database(migrations: MigrationSet): Promise<{ kind: string; sql: SqlClient }>;
}

export async function buildRouterService(ctx: BuildContext<RouterBackends, { executor: Client<typeof ExecutorService> }>): Promise<BuiltService<typeof RouterService>> {
  const models = modelViews(ctx.config, ctx.prices);
  for (const m of models.values()) {
    if (m.blendedPrice === undefined) ctx.logger.warn({ model: m.id }, "model has no price: ordered last by cost and recorded as unpriced");
  }
  const executor = ctx.clients.executor;
  const health = new HealthView(async () => (await executor.getHealth({})).deployments, ctx.logger);
  health.start();
  const db = await ctx.backends.database(ROUTER_MIGRATIONS);
  const store = new PolicyStore(db.sql);
  const live = new LivePolicyView(store, ctx.config.routing.overrides, ctx.logger);
  await live.refresh();
  live.start();
  const impl = new RouterServiceImpl(
    { config: ctx.config, models, health: (m) => health.state(m), sessions: new SessionStore(), overrides: () => live.overrides(), arm: (t, s, r) => live.arm(t, s, r) },
    ctx.logger,
    { store, live },
  );
  return {
    service: RouterService,
    impl,
    ready: async () => true,
    close: async () => {
      health.stop();
      live.stop();
    },
  };
}
