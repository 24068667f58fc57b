// The bench's child processes run as production runs the gateway: compiled JavaScript (esbuild, the same
// options as `npm run build`, code splitting included), no TypeScript loader. Under --profile they run the
// sources through tsx instead, so that the profile names our files and functions.
//
// Splitting matters for memory: in one bundle, esbuild hoists every external package's import to the top,
// and ESM evaluates those imports before the entry's first statement. The entry's heap policy
// (bin/heap-policy.mjs) then came after ~165 import statements had run, and the young generation had
// already grown to its 16 MB semi-spaces (32 MB resident until V8's memory reducer shrank it, 22-24 s
// after start): the embedded row's idle RSS read 255-261 MB where `npm start` holds ~230. With splitting,
// the gateway's modules are chunks that the entry's dynamic imports load after the policy, as
// bin/llmgw.mjs loads the production bundle.
import { buildSync } from "esbuild";
import { basename, join } from "node:path";

const built = new Map<string, string>();

/** Node arguments that run `entry` (a .ts path from the repo root): its compiled bundle, built once per run. */
export function entryArgs(entry: string, env: Record<string, string>): string[] {
  if (env.BENCH_CPU_PROFILE) return ["--import", "tsx", entry];
  let out = built.get(entry);
  if (!out) {
    const outdir = join("dist", "bench");
    out = join(outdir, basename(entry).replace(/\.ts$/, ".mjs"));
    buildSync({
      entryPoints: [entry],
      outdir,
      outExtension: { ".js": ".mjs" },
      splitting: true,
      chunkNames: "chunks/[name]-[hash]",
      bundle: true,
      platform: "node",
      target: "node20",
      format: "esm",
      packages: "external",
      logLevel: "warning",
    });
    built.set(entry, out);
  }
  return [out];
}
