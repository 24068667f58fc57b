// npm run bench:sdk — what each SDK mode adds to a call, side by side in one run: the same chat
// request (a named model, cache off, so every call runs the whole pipeline and reaches the provider)
// sent directly to the simulator (the provider's own time), through the SDK remote (HTTP to the
// embedded gateway's port) and through the SDK in-process (the same gateway's edge via inject).
// Rounds interleave the three in rotating order, so load on the machine hits them alike.
// (Relative imports: this folder is its own package, so the root's #libs/#services map does not apply.)
import { Command } from "commander";
import OpenAI from "openai";
import { loadConfig } from "../config/load.ts";
import { silentLogger } from "../log/logger.ts";
import { startSimulator } from "../simulator/server.ts";
import { startEmbedded } from "../../services/embedded/compose.ts";
import { remote, type LlmgwClient } from "./src/index.ts";
import { inProcess } from "./src/in-process.ts";

const opts = new Command()
  .option("--rounds <n>", "measured rounds (each: one call per mode)", "150")
  .option("--warmup <n>", "unmeasured rounds first", "20")
  .option("--stream", "stream the answers (time to the last chunk)")
  .parse()
  .opts<{ rounds: string; warmup: string; stream?: boolean }>();
const ROUNDS = Number(opts.rounds);
const WARMUP = Number(opts.warmup);
const STREAM = opts.stream === true;
const KEY = "llmgw-bench-admin-key-0123456789";

const sim = await startSimulator({ port: 0 });
const gateway = await startEmbedded({ port: 0, host: "127.0.0.1", dataDir: "memory", simulatorUrl: sim.url, config: loadConfig({ env: {} }), env: { LLMGW_API_KEY: KEY }, logger: silentLogger() });
const headers = { "x-llmgw-cache": "off" };
const direct = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: "sim", maxRetries: 0 });
const viaRemote = remote({ baseURL: gateway.url, apiKey: KEY, maxRetries: 0, defaultHeaders: headers });
const viaInProcess = await inProcess({ edge: gateway.edge.app, apiKey: KEY, maxRetries: 0, defaultHeaders: headers });
const params = { model: "gpt-4o-mini", messages: [{ role: "user" as const, content: "Reply with one short sentence about benchmarks." }] };

async function viaSdk(c: LlmgwClient): Promise<void> {
  if (STREAM) await (await c.chat.stream(params)).finalText();
  else await c.chat.create(params);
}
async function viaDirect(): Promise<void> {
  if (STREAM) for await (const _ of await direct.chat.completions.create({ ...params, stream: true })) void _;
  else await direct.chat.completions.create(params);
}

const modes = { direct: viaDirect, remote: () => viaSdk(viaRemote), "in-process": () => viaSdk(viaInProcess) } as const;
type Mode = keyof typeof modes;
const names = Object.keys(modes) as Mode[];
const samples: Record<Mode, number[]> = { direct: [], remote: [], "in-process": [] };

for (let round = 0; round < WARMUP + ROUNDS; round++) {
  for (let k = 0; k < names.length; k++) {
    const mode = names[(round + k) % names.length] as Mode;
    const t0 = performance.now();
    await modes[mode]();
    if (round >= WARMUP) samples[mode].push(performance.now() - t0);
  }
}

const q = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
};
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const base = q(samples.direct, 0.5);
console.log(`SDK modes, ${ROUNDS} rounds (+${WARMUP} warm-up), ${STREAM ? "streamed" : "JSON"} chat, gpt-4o-mini on the simulator, cache off; ms per call`);
console.log("mode         p50      p95      mean     added over direct (p50)");
for (const m of names) {
  const xs = samples[m];
  const added = m === "direct" ? "" : (q(xs, 0.5) - base).toFixed(3);
  console.log(`${m.padEnd(12)} ${q(xs, 0.5).toFixed(3).padStart(7)}  ${q(xs, 0.95).toFixed(3).padStart(7)}  ${mean(xs).toFixed(3).padStart(7)}  ${added}`);
}
const addRemote = q(samples.remote, 0.5) - base;
const addInProcess = q(samples["in-process"], 0.5) - base;
console.log(`in-process adds ${addInProcess.toFixed(3)} ms, remote ${addRemote.toFixed(3)} ms (p50): in-process/remote = ${(addInProcess / addRemote).toFixed(2)}`);

await viaInProcess.close();
await gateway.stop();
await sim.close();
