// The bench's child processes run as production runs the gateway: compiled JavaScript (esbuild, the same
// options as `npm run build`), no TypeScript loader. Under --profile they run the sources through tsx
// instead, so that the profile names our files and functions.
import { buildSync } from "esbuild";
import { basename, join } from "node:path";

const built = new Map<string, string>();

/** Node arguments that run `entry` (a .ts path from the repo root): its compiled bundle, built once per run. */
export function entryArgs(entry: string, env: Record<string, string>): string[] {
  if (env.BENCH_CPU_PROFILE) return ["--import", "tsx", entry];
  let out = built.get(entry);
  if (!out) {
    out = join("dist", "bench", basename(entry).replace(/\.ts$/, ".mjs"));
    buildSync({ entryPoints: [entry], outfile: out, bundle: true, platform: "node", target: "node20", format: "esm", packages: "external", logLevel: "warning" });
    built.set(entry, out);
  }
  return [out];
}
