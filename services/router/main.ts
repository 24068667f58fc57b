import { ExecutorService } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { createMeshClient } from "#libs/rpc/mesh-client.ts";
import { runServiceMain } from "#libs/server/run-main.ts";
import { buildRouterService } from "./build.ts";

await runServiceMain("router", (ctx) => buildRouterService(ctx, createMeshClient(ExecutorService, ctx.config.services.executor.address)));
