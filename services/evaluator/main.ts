import { runService } from "#services/compose/run-service.ts";

await runService("evaluator", process.env);
