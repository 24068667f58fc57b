// Builds the evaluator: the scoring service and the shadow-test consumer on the bus.
import type { Client } from "@connectrpc/connect";
import type { EventBus } from "#libs/bus/event-bus.ts";
import { EvaluatorService } from "#libs/gen/llmgw/evaluator/v1/evaluator_pb.ts";
import type { ExecutorService } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { loadPriceTable } from "#libs/pricing/index.ts";
import type { BuildContext, BuiltService } from "#libs/server/service-parts.ts";
import { DowngradeStats } from "./domain/downgrade.ts";
import { EvaluatorServiceImpl } from "./service.ts";
import { ShadowConsumer } from "./shadow-consumer.ts";

export async function buildEvaluatorService(ctx: BuildContext, deps: { bus: EventBus; executor: Client<typeof ExecutorService> }): Promise<BuiltService<typeof EvaluatorService>> {
  const stats = new DowngradeStats();
  const consumer = new ShadowConsumer(deps.bus, deps.executor, stats, ctx.logger, loadPriceTable(ctx.env.LLMGW_PRICES_FILE));
  await consumer.start();
  return {
    service: EvaluatorService,
    impl: new EvaluatorServiceImpl(stats),
    ready: async () => true,
    close: async () => consumer.stop(),
  };
}
