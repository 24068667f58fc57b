// Builds the evaluator: shadow results in the database (its own migrations), the shadow-test consumer
// on the bus, and the RPC service reporting findings from the recorded results.
import type { Client } from "@connectrpc/connect";
import type { EventBus } from "#libs/bus/event-bus.ts";
import { EvaluatorService } from "#libs/gen/llmgw/evaluator/v1/evaluator_pb.ts";
import type { ExecutorService } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import type { BuildContext, BuiltService } from "#libs/server/service-parts.ts";
import type { MigrationSet } from "#libs/sql/migrate.ts";
import { reachable, type SqlClient } from "#libs/sql/sql-client.ts";
import { EvaluatorServiceImpl } from "./service.ts";
import { ShadowConsumer } from "./shadow-consumer.ts";
import { EVALUATOR_MIGRATIONS } from "./storage/migrations.ts";
import { ShadowResultStore } from "./storage/shadow-results.ts";

export interface EvaluatorBackends {
  bus(client: string): Promise<EventBus>;
  database(migrations: MigrationSet): Promise<{ kind: string; sql: SqlClient }>;
}

export async function buildEvaluatorService(ctx: BuildContext<EvaluatorBackends, { executor: Client<typeof ExecutorService> }>): Promise<BuiltService<typeof EvaluatorService>> {
  const db = await ctx.backends.database(EVALUATOR_MIGRATIONS);
  const store = new ShadowResultStore(db.sql);
  const consumer = new ShadowConsumer({ bus: await ctx.backends.bus("llmgw-evaluator"), executor: ctx.clients.executor, store, config: ctx.config, prices: ctx.prices, logger: ctx.logger, registry: ctx.registry });
  await consumer.start();
  return {
    service: EvaluatorService,
    impl: new EvaluatorServiceImpl(store, store),
    ready: () => reachable(db.sql),
    close: async () => consumer.stop(),
  };
}
