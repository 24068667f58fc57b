#!/usr/bin/env node
// Runs one compiled entry point by its source path: `node bin/llmgw.mjs services/edge/main.ts` runs
// dist/services/edge/main.mjs (built by `npm run build`). Production processes (the Docker image,
// `npm run mesh`) run plain JavaScript: no TypeScript loader, no esbuild child, less memory.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { applyHeapPolicy } from "./heap-policy.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const entry = process.argv[2] ?? "services/embedded/main.ts";
const compiled = join(root, "dist", entry.replace(/\.ts$/, ".mjs"));
if (!existsSync(compiled)) {
  process.stderr.write(`llmgw: ${compiled} is missing; run \`npm run build\` first\n`);
  process.exit(2);
}
process.argv.splice(2, 1);
applyHeapPolicy();
await import(pathToFileURL(compiled).href);
