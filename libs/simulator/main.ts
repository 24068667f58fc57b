// Standalone simulator process: `npm run sim`. Config from env: SIM_PORT (9999), SIM_HOST, SIM_LATENCY_MS,
// SIM_TPS, SIM_ERROR_RATE, SIM_SEED, SIM_BATCH_DELAY_MS, SIM_BATCH_FAIL_RATE. Replay mode (replay.ts): SIM_REPLAY_FILES, SIM_REPLAY_WEAK and
// SIM_REPLAY_STRONG, comma-separated lists of JSONL files and of the models playing the weak and the strong side.
import { startSimulator, type SimReplayOptions } from "./server.ts";

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

function list(name: string): string[] {
  return (process.env[name] ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function replayOptions(): SimReplayOptions | undefined {
  const files = list("SIM_REPLAY_FILES");
  const weakModels = list("SIM_REPLAY_WEAK");
  const strongModels = list("SIM_REPLAY_STRONG");
  if (files.length === 0) {
    if (weakModels.length > 0 || strongModels.length > 0) {
      console.error("SIM_REPLAY_WEAK / SIM_REPLAY_STRONG need SIM_REPLAY_FILES");
      process.exit(2);
    }
    return undefined;
  }
  return { files, weakModels, strongModels };
}

const replay = replayOptions();
const sim = await startSimulator({
  port: num("SIM_PORT", 9999),
  host: process.env["SIM_HOST"] ?? "127.0.0.1",
  latencyMs: num("SIM_LATENCY_MS", 0),
  tokensPerSecond: num("SIM_TPS", 0),
  errorRate: num("SIM_ERROR_RATE", 0),
  seed: num("SIM_SEED", 42),
  batchDelayMs: num("SIM_BATCH_DELAY_MS", 0),
  batchFailRate: num("SIM_BATCH_FAIL_RATE", 0),
  ...(replay !== undefined ? { replay } : {}),
});
const replayInfo = sim.replay !== undefined ? { replay: { rows: sim.replay.rows.length, skipped: sim.replay.skipped, ...sim.replay.mapping } } : {};
console.log(JSON.stringify({ msg: "simulator listening", url: sim.url, openaiBaseURL: `${sim.url}/v1`, anthropicBaseURL: sim.url, ...replayInfo }));

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  console.log(JSON.stringify({ msg: "simulator stopping", signal, stats: sim.stats() }));
  void sim.close().then(() => process.exit(0));
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
