// Builds the evaluator: the scoring service and the shadow-test consumer on the bus.
import type { Client } from "@connectrpc/connect";
import type { EventBus } from "#libs/bus/event-bus.ts";
import { EvaluatorService } from "#libs/gen/llmgw/evaluator/v1/evaluator_pb.ts";
import type { ExecutorService } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import type { BuildContext, BuiltService } from "#libs/server/service-parts.ts";
import { DowngradeStats } from "./domain/downgrade.ts";
import { EvaluatorServiceImpl } from "./service.ts";
import { ShadowConsumer } from "./shadow-consumer.ts";

export interface EvaluatorBackends {
  bus(client: string): Promise<EventBus>;
}

export async function buildEvaluatorService(ctx: BuildContext<EvaluatorBackends, { executor: Client<typeof ExecutorService> }>): Promise<BuiltService<typeof EvaluatorService>> {
  const stats = new DowngradeStats();
  const consumer = new ShadowConsumer(await ctx.backends.bus("llmgw-evaluator"), ctx.clients.executor, stats, ctx.logger, ctx.prices);
  await consumer.start();
  return {
    service: EvaluatorService,
    impl: new EvaluatorServiceImpl(stats),
    ready: async () => true,
    close: async () => consumer.stop(),
  };
}
