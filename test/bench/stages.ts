// `npm run bench:stages -- [--targets bare,embedded] [--rounds 3] [--seconds 4] [--warmup 6] [--json FILE]`
// Where one request's time goes inside each proxy at concurrency 1: the simulator, the bare proxy and the
// embedded gateway (compiled, as `npm run bench` runs them) with stage-marks.mjs preloaded, measured in
// alternating rounds. Each step is the median over a round's requests; the table gives the median of the
// rounds and their range. No source carries marks: the points are Node's own diagnostics_channel events.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import Table from "cli-table3";
import { Command } from "commander";
import { benchBody, LoadClient } from "./load.ts";
import { startSimulator, stopChild } from "./procs.ts";
import { parseStageLines, STEPS, stepMedians } from "./stage-stats.ts";
import { median, percentile } from "./stats.ts";
import { bareTarget, CHAT_PATH, directTarget, embeddedTarget, type Target } from "./targets.ts";

const KINDS = ["bare", "embedded"] as const;
type Kind = (typeof KINDS)[number];

const program = new Command()
  .name("bench:stages")
  .option("--targets <list>", `comma-separated, of ${KINDS.join(",")}`, KINDS.join(","))
  .option("--rounds <n>", "measured rounds per target, alternating", "3")
  .option("--seconds <s>", "measured seconds per round", "4")
  .option("--warmup <s>", "seconds of c=1 load per target before the rounds", "6")
  .option("--json <file>", "write the rounds and the summary as JSON")
  .parse();
const opts = program.opts<{ targets: string; rounds: string; seconds: string; warmup: string; json?: string }>();
const kinds = opts.targets.split(",").map((s) => s.trim()) as Kind[];
for (const k of kinds) if (!KINDS.includes(k)) throw new Error(`unknown target ${k}; expected ${KINDS.join(",")}`);
const rounds = Math.max(1, Math.floor(Number(opts.rounds)));
const roundMs = Number(opts.seconds) * 1000;
const warmupMs = Number(opts.warmup) * 1000;
if (!(roundMs > 0) || !(warmupMs >= 0)) throw new Error("bad --seconds or --warmup");

const log = (s: string): void => console.error(s);
const preload = pathToFileURL(resolve("test/bench/stage-marks.mjs")).href;
const dir = mkdtempSync(join(tmpdir(), "llmgw-stages-"));
const body = benchBody();

interface Measured {
  name: string;
  t: Target;
  file?: string;
  client: LoadClient;
  rounds: { p50_us: number; n: number; steps: (number | undefined)[] }[];
}

const sim = await startSimulator();
const measured: Measured[] = [];
try {
  measured.push({ name: "simulator", t: directTarget(sim.url), client: new LoadClient(sim.url, 1), rounds: [] });
  for (const k of kinds) {
    const file = join(dir, `${k}.ndjson`);
    const env = { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import=${preload}`.trim(), BENCH_STAGES_FILE: file };
    const t = k === "bare" ? await bareTarget(sim.url, env) : await embeddedTarget(sim.url, false, env);
    measured.push({ name: k === "bare" ? "bare proxy" : "embedded", t, file, client: new LoadClient(t.origin, 1), rounds: [] });
  }
  const spec = (m: Measured, ms: number) => ({ path: CHAT_PATH, headers: m.t.headers, body, concurrency: 1, durationMs: ms });
  for (const m of measured) {
    const r = await m.client.run(spec(m, warmupMs));
    if (Object.keys(r.errors).length > 0) throw new Error(`${m.name}: errors during warm-up ${JSON.stringify(r.errors)}`);
    log(`${m.name}: warmed (${r.ok} requests)`);
  }
  for (let round = 0; round < rounds; round++) {
    // Alternate the order so no target always follows the same one.
    const order = round % 2 === 0 ? measured : [...measured].reverse();
    for (const m of order) {
      const from = Date.now();
      const r = await m.client.run(spec(m, roundMs));
      const to = Date.now();
      if (Object.keys(r.errors).length > 0) throw new Error(`${m.name}: errors ${JSON.stringify(r.errors)}`);
      const p50 = percentile([...r.latenciesMs].sort((a, b) => a - b), 50) * 1000;
      let steps: (number | undefined)[] = [];
      let n = 0;
      if (m.file) {
        await new Promise((res) => setTimeout(res, 700)); // the preload appends every 500 ms
        ({ n, steps } = stepMedians(parseStageLines(readFileSync(m.file, "utf8")), from, to));
        if (n === 0) throw new Error(`${m.name}: no request was timed (is the preload loaded?)`);
      }
      m.rounds.push({ p50_us: p50, n, steps });
      log(`[round ${round + 1}/${rounds}] ${m.name}: p50 ${p50.toFixed(0)} µs, ${r.ok} requests, ${n} timed`);
    }
  }
} finally {
  for (const m of measured) await m.client.close();
  for (const m of measured) await m.t.stop();
  await stopChild(sim.child);
  rmSync(dir, { recursive: true, force: true });
}

const fmt = (xs: (number | undefined)[]): string => {
  const v = xs.filter((x): x is number => x !== undefined);
  if (v.length === 0) return "-";
  return v.length === 1 ? v[0]!.toFixed(1) : `${median(v).toFixed(1)} (${Math.min(...v).toFixed(0)}-${Math.max(...v).toFixed(0)})`;
};
const proxies = measured.filter((m) => m.file);
const table = new Table({ style: { head: [], border: [] }, head: ["µs, c=1, median of rounds (range)", ...proxies.map((m) => m.name)] });
STEPS.forEach((s, i) => table.push([s.name, ...proxies.map((m) => fmt(m.rounds.map((r) => r.steps[i])))]));
const simP50 = median(measured[0]!.rounds.map((r) => r.p50_us));
table.push(["client p50", ...proxies.map((m) => fmt(m.rounds.map((r) => r.p50_us)))]);
table.push(["client p50 minus the simulator's own", ...proxies.map((m) => fmt(m.rounds.map((r) => r.p50_us - simP50)))]);
console.log(table.toString());
console.log(`simulator alone: client p50 ${simP50.toFixed(0)} µs. Steps are medians over the requests of each round that were alone in their process; "from the send" overlaps the upstream step.`);

if (opts.json) {
  const summary = {
    rounds,
    seconds_per_round: roundMs / 1000,
    simulator_p50_us: simP50,
    steps: STEPS.map((s) => s.name.trim()),
    targets: measured.map((m) => ({ name: m.name, rounds: m.rounds })),
  };
  writeFileSync(opts.json, JSON.stringify(summary, null, 2) + "\n");
  log(`wrote ${opts.json}`);
}
