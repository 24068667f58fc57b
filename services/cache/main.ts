import { runService } from "#services/compose/run-service.ts";

await runService("cache", process.env);
