import { runServiceMain } from "#libs/server/run-main.ts";
import { buildClassifierService } from "./build.ts";

await runServiceMain("classifier", buildClassifierService);
