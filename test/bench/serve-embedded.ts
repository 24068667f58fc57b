// Child process for the `embedded` target: the whole gateway in one process, as `npm start` runs it,
// with an in-memory ledger. Prints one JSON line {url, key} when ready; SIGUSR2 toggles the
// profiler when BENCH_CPU_PROFILE is set (profiler-signal.ts).
import { silentLogger } from "#libs/log/logger.ts";
import { startEmbedded } from "#services/embedded/compose.ts";
import { installProfilerSignal } from "./profiler-signal.ts";

const simulatorUrl = process.env.BENCH_SIM_URL;
const key = process.env.BENCH_KEY;
if (!simulatorUrl || !key) throw new Error("BENCH_SIM_URL and BENCH_KEY are required");

const gw = await startEmbedded({ port: 0, host: "127.0.0.1", dataDir: "memory", simulatorUrl, env: { LLMGW_API_KEY: key }, logger: silentLogger() });
console.log(JSON.stringify({ url: gw.url, key }));

installProfilerSignal();

let stopping = false;
process.on("SIGTERM", () => {
  if (stopping) return;
  stopping = true;
  void gw.stop().finally(() => process.exit(0));
});
