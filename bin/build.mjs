// `npm run build`: every process's entry point bundled into dist/ (dist/<path>.mjs, shared chunks in
// dist/chunks), run by bin/llmgw.mjs in production, `npm start` and the Docker image.
import { build } from "esbuild";
import { BUILD_OPTIONS } from "./build-options.mjs";

const ENTRIES = [
  "services/embedded/main.ts",
  "services/mesh/main.ts",
  "services/edge/main.ts",
  "services/classifier/main.ts",
  "services/cache/main.ts",
  "services/router/main.ts",
  "services/provider-executor/main.ts",
  "services/ledger/main.ts",
  "services/evaluator/main.ts",
  "services/evaluator/cli/analyze.ts",
  "libs/simulator/main.ts",
];

await build({ ...BUILD_OPTIONS, entryPoints: ENTRIES, outdir: "dist", outbase: "." });
