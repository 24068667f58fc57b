import { runServiceMain } from "#libs/server/run-main.ts";
import { buildExecutorService } from "./build.ts";

await runServiceMain("executor", (ctx) => buildExecutorService(ctx));
