// The bench's child processes run as production runs the gateway: compiled JavaScript (esbuild, with
// `npm run build`'s options from bin/build-options.mjs), no TypeScript loader. Under --profile they run the
// sources through tsx instead, so that the profile names our files and functions.
//
// The children were once built without code splitting: the entry's heap policy then ran after ~165 hoisted
// import statements, the young generation had already grown to its 16 MB semi-spaces (32 MB resident until
// V8's memory reducer shrank it, 22-24 s after start), and the embedded row's idle RSS read 255-261 MB where
// `npm start` holds ~230. compiled-entry.test.ts keeps that from coming back.
import { buildSync } from "esbuild";
import { basename, join } from "node:path";
import { BUILD_OPTIONS } from "../../bin/build-options.mjs";

const built = new Map<string, string>();

/** Node arguments that run `entry` (a .ts path from the repo root): its compiled bundle, built once per run. */
export function entryArgs(entry: string, env: Record<string, string>): string[] {
  if (env.BENCH_CPU_PROFILE) return ["--import", "tsx", entry];
  let out = built.get(entry);
  if (!out) {
    const outdir = join("dist", "bench");
    out = join(outdir, basename(entry).replace(/\.ts$/, ".mjs"));
    buildSync({ ...BUILD_OPTIONS, entryPoints: [entry], outdir });
    built.set(entry, out);
  }
  return [out];
}
