import { runService } from "#services/compose/run-service.ts";

await runService("classifier", process.env);
