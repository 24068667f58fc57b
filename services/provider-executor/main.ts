import { runService } from "#services/compose/run-service.ts";

await runService("executor", process.env);
