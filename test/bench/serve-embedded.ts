// Child process for the `embedded` targets: the whole gateway in one process, as `npm start` runs it.
// By default with a silent logger and an in-memory ledger; BENCH_DEFAULTS=1 gives `npm start`'s real
// defaults instead: the default pino logger (LOG_LEVEL, info) on stdout and PGlite on disk under
// BENCH_DATA_DIR. Prints one JSON line {benchReady, url, key} when ready; SIGUSR2 toggles the profiler
// when BENCH_CPU_PROFILE is set (profiler-signal.ts).
import { applyHeapPolicy } from "../../bin/heap-policy.mjs";

const simulatorUrl = process.env.BENCH_SIM_URL;
const key = process.env.BENCH_KEY;
if (!simulatorUrl || !key) throw new Error("BENCH_SIM_URL and BENCH_KEY are required");
const defaults = process.env.BENCH_DEFAULTS === "1";
const dataDir = defaults ? process.env.BENCH_DATA_DIR : "memory";
if (!dataDir) throw new Error("BENCH_DATA_DIR is required with BENCH_DEFAULTS=1");

// As bin/llmgw.mjs runs every production process; BENCH_NO_HEAP_POLICY=1 keeps V8's default (A/B).
if (process.env.BENCH_NO_HEAP_POLICY !== "1") applyHeapPolicy();
// Loaded after the policy, as bin/llmgw.mjs loads the gateway: static imports would load every package first.
const { createLogger, silentLogger } = await import("#libs/log/logger.ts");
const { startEmbedded } = await import("#services/embedded/compose.ts");
const { installProfilerSignal } = await import("./profiler-signal.ts");

const gw = await startEmbedded({
  port: 0,
  host: "127.0.0.1",
  dataDir,
  simulatorUrl,
  env: { LLMGW_API_KEY: key },
  // services/embedded/main.ts (`npm start`) uses exactly this logger.
  logger: defaults ? createLogger("llmgw") : silentLogger(),
});
console.log(JSON.stringify({ benchReady: true, url: gw.url, key }));

installProfilerSignal();

let stopping = false;
process.on("SIGTERM", () => {
  if (stopping) return;
  stopping = true;
  void gw.stop().finally(() => process.exit(0));
});
