import { runService } from "#services/compose/run-service.ts";

await runService("ledger", process.env);
