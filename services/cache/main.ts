import { runServiceMain } from "#libs/server/run-main.ts";
import { buildCacheService } from "./build.ts";

await runServiceMain("cache", buildCacheService);
