import { connectNatsBus } from "#libs/bus/connect-nats.ts";
import { ExecutorService } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { createMeshClient } from "#libs/rpc/mesh-client.ts";
import { runServiceMain } from "#libs/server/run-main.ts";
import { buildEvaluatorService } from "./build.ts";

await runServiceMain("evaluator", async (ctx) => {
  const nats = await connectNatsBus(ctx.env, ctx.logger, "llmgw-evaluator");
  const built = await buildEvaluatorService(ctx, { bus: nats.bus, executor: createMeshClient(ExecutorService, ctx.config.services.executor.address) });
  return {
    ...built,
    ready: async () => nats.connected(),
    close: async () => {
      await built.close();
      await nats.close();
    },
  };
});
