// The esbuild options of every bundle of the gateway. `npm run build` (package.json) states them on the
// command line for production and the Docker image; the benchmarks' children (test/bench/compiled-entry.ts,
// idle-rss.ts) and the drain test build with this object, so what they run is built as production is.
// build-options.test.ts checks the two agree.
//
// Splitting is not only for sharing code between entries: esbuild hoists every external package's
// import to the top of a single bundle, and ESM evaluates those imports before the entry's first
// statement. With splitting, what an entry loads with `await import()` stays a chunk loaded then, so an
// entry can apply the heap policy (bin/heap-policy.mjs) before the gateway's packages load.

/** esbuild options shared by every bundle; callers add entryPoints and outdir (and outbase). */
export const BUILD_OPTIONS = Object.freeze({
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  packages: "external",
  splitting: true,
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
  logLevel: "warning",
});
