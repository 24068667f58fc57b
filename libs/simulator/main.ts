// Standalone simulator process: `npm run sim`. Config from env: SIM_PORT (9999), SIM_HOST, SIM_LATENCY_MS,
// SIM_TPS, SIM_ERROR_RATE, SIM_SEED, SIM_BATCH_DELAY_MS.
import { startSimulator } from "./server.ts";

function num(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0) {
    console.error(`invalid ${name}=${raw}: expected a non-negative number`);
    process.exit(2);
  }
  return v;
}

const sim = await startSimulator({
  port: num("SIM_PORT", 9999),
  host: process.env["SIM_HOST"] ?? "127.0.0.1",
  latencyMs: num("SIM_LATENCY_MS", 0),
  tokensPerSecond: num("SIM_TPS", 0),
  errorRate: num("SIM_ERROR_RATE", 0),
  seed: num("SIM_SEED", 42),
  batchDelayMs: num("SIM_BATCH_DELAY_MS", 0),
});
console.log(JSON.stringify({ msg: "simulator listening", url: sim.url, openaiBaseURL: `${sim.url}/v1`, anthropicBaseURL: sim.url }));

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  console.log(JSON.stringify({ msg: "simulator stopping", signal, stats: sim.stats() }));
  void sim.close().then(() => process.exit(0));
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
