import { runService } from "#services/compose/run-service.ts";

await runService("router", process.env);
