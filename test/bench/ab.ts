// `npm run bench:ab -- --base REV [--head REV] [--target embedded|mesh-procs] [--concurrency N] [--rounds N] [--seconds S] [--json FILE]`
// Two builds of one target side by side: REV (a git revision, checked out into a temporary worktree that
// shares this checkout's node_modules) against this working tree (or --head REV), on one simulator,
// measured in alternating rounds. A single full bench run cannot show a 10-20% change on a host whose
// speed swings by half within minutes; alternating rounds put both builds under the same swings.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Table from "cli-table3";
import { Command } from "commander";
import { benchBody, LoadClient } from "./load.ts";
import { cpuSnapshot, jsonLine, LAUNCHER_ENV, settle, startSimulator, stopChild, withDescendants } from "./procs.ts";
import { counterDelta, median, percentile } from "./stats.ts";
import { warmUpUnderLoad } from "./warm-up.ts";

const program = new Command()
  .name("bench:ab")
  .description("Compare two builds of one target in alternating rounds")
  .requiredOption("--base <rev>", "git revision to compare against (checked out into a temporary worktree)")
  .option("--head <rev>", "git revision to compare (default: this working tree, uncommitted changes included)")
  .option("--target <name>", "embedded | mesh-procs", "embedded")
  .option("--model <m>", "model of the request", "gpt-4o-mini")
  .option("--concurrency <n>", "concurrent requests", "32")
  .option("--rounds <n>", "measured rounds per side", "6")
  .option("--seconds <s>", "measured seconds per round", "5")
  .option("--json <file>", "write the rounds and the summary as JSON")
  .parse();
const opts = program.opts<{ base: string; head?: string; target: string; model: string; concurrency: string; rounds: string; seconds: string; json?: string }>();
if (opts.target !== "embedded" && opts.target !== "mesh-procs") throw new Error("--target must be embedded or mesh-procs");
const concurrency = Number(opts.concurrency);
const rounds = Math.max(1, Math.floor(Number(opts.rounds)));
const roundMs = Number(opts.seconds) * 1000;
if (!(concurrency >= 1) || !(roundMs > 0)) throw new Error("bad --concurrency or --seconds");

const root = execFileSync("git", ["rev-parse", "--show-toplevel"], { encoding: "utf8" }).trim();
const log = (s: string): void => console.error(s);
const body = benchBody(opts.model);

interface Side {
  label: string;
  dir: string;
  worktree: boolean;
  proc?: ChildProcess;
  origin?: string;
  path?: string;
  headers?: Record<string, string>;
  pids: number[];
  /** The CPU per request its last warm-up settled at: the next warm-up must come back near it (warm-up.ts). */
  warmCost?: number;
  rounds: { rps: number; p50_ms: number; p99_ms: number; cpu_us_per_req: number; requests: number; warmup_s: number }[];
}

function checkout(rev: string): Side {
  const dir = mkdtempSync(join(tmpdir(), "llmgw-ab-"));
  execFileSync("git", ["worktree", "add", "--detach", "--force", dir, rev], { cwd: root, stdio: "ignore" });
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  const sha = execFileSync("git", ["rev-parse", "--short", rev], { cwd: root, encoding: "utf8" }).trim();
  return { label: sha.startsWith(rev) ? sha : `${rev} (${sha})`, dir, worktree: true, pids: [], rounds: [] };
}

function startSide(side: Side, simUrl: string): Promise<void> {
  return new Promise((ok, fail) => {
    const proc = spawn(process.execPath, ["--import", "tsx", join(root, "test/bench/ab-side.ts")], {
      cwd: side.dir,
      env: { ...process.env, ...LAUNCHER_ENV, AB_SIM_URL: simUrl, AB_TARGET: opts.target },
      stdio: ["ignore", "pipe", "pipe"],
    });
    side.proc = proc;
    let out = "";
    let err = "";
    const timer = setTimeout(() => fail(new Error(`${side.label}: not ready after 180 s\n${err.slice(-2000)}`)), 180_000);
    proc.stderr?.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    proc.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      for (const line of out.split("\n")) {
        const ready = jsonLine(line, (v): v is { abReady: true; origin: string; path: string; headers: Record<string, string>; pids: number[] } => typeof v === "object" && v !== null && (v as { abReady?: unknown }).abReady === true);
        if (!ready) continue;
        clearTimeout(timer);
        Object.assign(side, { origin: ready.origin, path: ready.path, headers: ready.headers, pids: ready.pids });
        ok();
        return;
      }
    });
    proc.on("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`${side.label}: exited with ${code}\n${err.slice(-2000)}`));
    });
  });
}

async function stopSide(side: Side): Promise<void> {
  const proc = side.proc;
  if (proc && proc.exitCode === null) {
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    if (proc.exitCode === null) proc.kill("SIGKILL");
  }
  if (side.worktree) {
    execFileSync("git", ["worktree", "remove", "--force", side.dir], { cwd: root, stdio: "ignore" });
    rmSync(side.dir, { recursive: true, force: true });
  }
}

async function measure(side: Side, client: LoadClient): Promise<void> {
  const spec = { path: side.path ?? "", headers: side.headers ?? {}, body, concurrency };
  const pids = withDescendants(side.pids);
  const warm = await warmUpUnderLoad(client, spec, pids, { chunkMs: 1000, minChunks: 3, maxChunks: 20, reference: side.warmCost });
  if (warm.settled) side.warmCost = warm.costs.at(-1);
  await settle(pids);
  const cpu0 = cpuSnapshot(pids);
  const res = await client.run({ ...spec, durationMs: roundMs });
  const cpu = counterDelta(cpu0, cpuSnapshot(pids));
  const errors = Object.values(res.errors).reduce((a, b) => a + b, 0);
  if (errors > 0 || res.ok === 0) throw new Error(`${side.label}: ${errors} errors ${JSON.stringify(res.errors)}`);
  const sorted = [...res.latenciesMs].sort((a, b) => a - b);
  side.rounds.push({ rps: (res.ok * 1000) / res.elapsedMs, p50_ms: percentile(sorted, 50), p99_ms: percentile(sorted, 99), cpu_us_per_req: cpu / res.ok, requests: res.ok, warmup_s: warm.seconds });
}

async function main(): Promise<void> {
  const sides: Side[] = [];
  const sim = await startSimulator();
  const clients: LoadClient[] = [];
  try {
    sides.push(checkout(opts.base));
    sides.push(opts.head ? checkout(opts.head) : { label: "working tree", dir: root, worktree: false, pids: [], rounds: [] });
    // One after the other: the mesh's start-up builds and migrates.
    for (const s of sides) {
      await startSide(s, sim.url);
      log(`${s.label}: ${opts.target} up at ${s.origin}`);
    }
    for (const s of sides) clients.push(new LoadClient(s.origin ?? "", concurrency));
    for (let r = 0; r < rounds; r++) {
      // Alternate which side goes first, so neither always follows the other's load.
      for (const i of r % 2 === 0 ? [0, 1] : [1, 0]) {
        const s = sides[i] as Side;
        await measure(s, clients[i] as LoadClient);
        const last = s.rounds.at(-1);
        if (last) log(`round ${r + 1} ${s.label}: ${last.rps.toFixed(0)} req/s, p50 ${last.p50_ms.toFixed(3)} ms, ${last.cpu_us_per_req.toFixed(0)} CPU µs/req (warm after ${last.warmup_s} s)`);
      }
    }
    const summary = sides.map((s) => ({
      side: s.label,
      rps_median: median(s.rounds.map((x) => x.rps)),
      p50_ms_median: median(s.rounds.map((x) => x.p50_ms)),
      p99_ms_median: median(s.rounds.map((x) => x.p99_ms)),
      cpu_us_per_req: s.rounds.reduce((a, x) => a + x.cpu_us_per_req * x.requests, 0) / s.rounds.reduce((a, x) => a + x.requests, 0),
    }));
    const [a, b] = summary as [(typeof summary)[number], (typeof summary)[number]];
    const t = new Table({ style: { head: [], border: [] }, head: ["", "req/s (median)", "p50 ms (median)", "p99 ms (median)", "CPU µs/req"] });
    for (const s of summary) t.push([s.side, s.rps_median.toFixed(0), s.p50_ms_median.toFixed(3), s.p99_ms_median.toFixed(3), s.cpu_us_per_req.toFixed(0)]);
    t.push(["second ÷ first", (b.rps_median / a.rps_median).toFixed(3), (b.p50_ms_median / a.p50_ms_median).toFixed(3), (b.p99_ms_median / a.p99_ms_median).toFixed(3), (b.cpu_us_per_req / a.cpu_us_per_req).toFixed(3)]);
    console.log(`${opts.target}, ${opts.model}, c=${concurrency}, ${rounds} rounds of ${roundMs / 1000} s per side, CPU summed over the target's processes`);
    console.log(t.toString());
    if (opts.json) writeFileSync(opts.json, JSON.stringify({ date: new Date().toISOString(), target: opts.target, model: opts.model, concurrency, rounds, seconds: roundMs / 1000, sides: sides.map((s) => ({ side: s.label, rounds: s.rounds })), summary }, null, 2));
  } finally {
    for (const c of clients) await c.close();
    for (const s of sides) await stopSide(s).catch((e: unknown) => log(`!! ${s.label}: ${e instanceof Error ? e.message : String(e)}`));
    await stopChild(sim.child);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    log(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  },
);

