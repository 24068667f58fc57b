// `npm run bench -- [--json FILE] [--duration S] [--targets direct,bare,embedded,embedded-defaults,cache-hit,mesh,mesh-procs,portkey] [--profile]`
// Gateway overhead against the bare provider, a bare Node proxy (the floor of any Node gateway) and
// Portkey's open-source gateway, all pointed at the same zero-latency simulator. Every system runs in
// its own process(es); this process only generates load, so its CPU is reported too (all share the
// machine's cores). CPU and memory come from /proc.
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { Command } from "commander";
import { benchBody, LoadClient } from "./load.ts";
import { cpuSnapshot, faultSnapshot, INFRA_PROCESS_NAMES, mainThreadCpuUs, pidsNamed, processName, processRssKb, rssMb, rssSampler, settle, startSimulator, stopChild, withDescendants } from "./procs.ts";
import { compareWithReferences, counterDelta, mergeSamples, projectRatios, simCallsProblem, summarize, withAddedLatency, type Run, type Sample } from "./stats.ts";
import { bareTarget, cacheHitTarget, directTarget, embeddedDefaultsTarget, embeddedTarget, meshInProcessTarget, meshProcessesTarget, portkeyTarget, type Target } from "./targets.ts";
import { measureHostCosts, measureRoundTrips } from "./host-costs.ts";
import { printProfile, profileGateway } from "./profile-run.ts";
import { printComparisons, printRatios, printRuns } from "./report.ts";
import { createRng } from "#libs/random/rng.ts";
import { warmUpUnderLoad } from "./warm-up.ts";

/** How long every target rests after its check request(s) before its idle RSS is read. */
const IDLE_REST_MS = 20_000;

// Work before a round trip (the caller busy, its peer idle), µs: none, and about what our gateway does at c=1.
const ROUND_TRIP_GAPS_US = [0, 500] as const;

const ALL_TARGETS = ["direct", "bare", "embedded", "embedded-defaults", "cache-hit", "mesh", "mesh-procs", "portkey"] as const;
type TargetName = (typeof ALL_TARGETS)[number];

const program = new Command()
  .name("bench")
  .description("Gateway overhead: direct simulator vs a bare Node proxy vs embedded vs mesh vs Portkey (req/s, p50/p99, CPU and memory)")
  .option("--json <file>", "write the results as JSON")
  .option("--duration <s>", "measured seconds per target, model and concurrency", "5")
  .option("--targets <list>", `comma-separated, of ${ALL_TARGETS.join(",")}`, ALL_TARGETS.join(","))
  .option("--concurrency <list>", "comma-separated concurrencies", "1,32")
  .option("--rounds <n>", "split each measurement into this many interleaved rounds (fairness against background noise)", "2")
  .option("--warmup <s>", "length of one warm-up chunk: at the start of each target's block, chunks run at the highest concurrency until its CPU per request stops falling (at least 3)", "2")
  .option("--warmup-max <s>", "cap on the warm-up at the start of a target's block", "30")
  .option("--switch <s>", "load at a slot's own model and concurrency before it is measured", "1")
  .option("--no-auto", "skip the extra rows with model=auto (routed) on our gateway")
  .option("--profile [target]", "then profile our gateway (embedded, or mesh = the in-process mesh) under load with the V8 profiler and print its hot spots")
  .option("--profile-concurrency <n>", "with --profile: concurrency of the profiled load (default: the highest)")
  .option("--profile-file <file>", "with --profile: keep the raw .cpuprofile there (opens in Chrome DevTools)")
  .option("--seed <n>", "seed of the order shuffle", "1")
  .parse();

interface Opts {
  json?: string;
  duration: string;
  targets: string;
  concurrency: string;
  rounds: string;
  warmup: string;
  warmupMax: string;
  switch: string;
  auto: boolean;
  profile?: boolean | string;
  profileFile?: string;
  profileConcurrency?: string;
  seed: string;
}
const opts = program.opts<Opts>();
const durationMs = Number(opts.duration) * 1000;
const rounds = Math.max(1, Math.floor(Number(opts.rounds)));
const warmupMs = Number(opts.warmup) * 1000;
const warmupMaxChunks = Math.max(3, Math.ceil(Number(opts.warmupMax) / Number(opts.warmup)));
const switchMs = Number(opts.switch) * 1000;
const concurrencies = opts.concurrency.split(",").map(Number);
const high = Math.max(...concurrencies);
const wanted = opts.targets.split(",").map((s) => s.trim()) as TargetName[];
for (const t of wanted) if (!ALL_TARGETS.includes(t)) throw new Error(`unknown target ${t}; expected ${ALL_TARGETS.join(",")}`);
if (!(durationMs > 0) || concurrencies.some((c) => !(c >= 1))) throw new Error("bad --duration or --concurrency");

async function simCalls(simUrl: string): Promise<number> {
  const r = await fetch(`${simUrl}/_sim/stats`);
  return ((await r.json()) as { requests: number }).requests;
}

interface Row {
  t: Target;
  model: string;
  client: LoadClient;
  /** Warm-up seconds of the block of each measured slot, per concurrency; and how many hit the cap. */
  warmups: Map<number, { seconds: number[]; capped: number; cold: number[] }>;
  samples: Map<number, Sample[]>;
  cpu: Map<number, { target: number; faults: number; infra: number; loadgen: number; simCalls: number }>;
  /** Peak summed RSS of the target's processes per concurrency, MB. */
  rss: Map<number, number>;
  /** CPU µs per named process (targets with pidNames) per concurrency, summed over slots. */
  cpuByProc: Map<number, Record<string, number>>;
  /** CPU µs of the main thread of a one-process target per concurrency, summed over slots. */
  cpuMain: Map<number, number>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** The target's processes and any they spawned. */
const targetPids = (t: Target): number[] => (t.pids.length ? withDescendants(t.pids) : []);
const fingerprintOf = (text: string): string => {
  try {
    return String((JSON.parse(text) as { system_fingerprint?: unknown }).system_fingerprint ?? "");
  } catch {
    return "";
  }
};

const log = (s: string): void => console.error(s);

async function main(): Promise<void> {
  const started = Date.now();
  const loadAtStart = loadavg();
  log(`load average at start: ${loadAtStart.map((l) => l.toFixed(2)).join(" ")} (other work on these cores skews wall-clock figures; CPU µs/req much less)`);
  const host = { ...measureHostCosts(), round_trip_us: await measureRoundTrips({ gapsUs: ROUND_TRIP_GAPS_US, trips: 1000 }) };
  log(`host: ${host.page_fault_us.toFixed(2)} µs per page fault, ${host.syscall_us.toFixed(3)} µs per system call (both scale every CPU µs/req column; compare runs on hosts that agree)`);
  log(`host: loopback round trip to an idle process ${ROUND_TRIP_GAPS_US.map((g) => `${Math.round(host.round_trip_us[String(g)] ?? Number.NaN)} µs after ${g} µs of work`).join(", ")} (every process a request crosses pays it; the gap is what the others do meanwhile)`);
  const sim = await startSimulator();
  const simUrl = sim.url;
  log(`simulator ${simUrl} (latency 0)`);

  const targets: Target[] = [];
  const failures: { target: string; error: string }[] = [];
  const starters: Record<TargetName, () => Promise<Target>> = {
    direct: async () => directTarget(simUrl),
    bare: () => bareTarget(simUrl),
    embedded: () => embeddedTarget(simUrl, opts.auto),
    "embedded-defaults": () => embeddedDefaultsTarget(simUrl),
    "cache-hit": () => cacheHitTarget(simUrl),
    mesh: () => meshInProcessTarget(simUrl, opts.auto),
    "mesh-procs": () => meshProcessesTarget(simUrl),
    portkey: () => portkeyTarget(simUrl),
  };
  const rows: Row[] = [];
  try {
    for (const name of wanted) {
      try {
        const t0 = Date.now();
        const t = await starters[name]();
        targets.push(t);
        log(`${name} up at ${t.origin} in ${Date.now() - t0} ms`);
      } catch (e) {
        failures.push({ target: name, error: e instanceof Error ? e.message : String(e) });
        log(`!! ${name} failed to start: ${e instanceof Error ? e.message : String(e)}`);
      }
    }

    // One real request per (target, model): it must succeed and must have reached the simulator. A
    // cache-hit target: that first request fills the cache, then a repeat must be an exact hit that
    // does not reach the simulator.
    for (const t of targets) {
      for (const model of t.models) {
        const client = new LoadClient(t.origin, Math.max(...concurrencies));
        const send = () => client.one({ path: t.path, headers: t.headers, body: benchBody(model, t.maxTokens) }).catch((e: unknown) => ({ status: 0, headers: {} as Record<string, string | string[] | undefined>, text: String(e) }));
        const before = await simCalls(simUrl);
        const r = await send();
        const after = await simCalls(simUrl);
        const fingerprint = fingerprintOf(r.text);
        let problem = r.status !== 200 || after <= before || fingerprint !== "fp_sim" ? `check request: HTTP ${r.status}, simulator calls +${after - before}, fingerprint ${fingerprint || "none"}: ${r.text.slice(0, 300)}` : "";
        let note = `reached the simulator (+${after - before} call)`;
        if (!problem && t.cacheHits) {
          // The answer is stored after it is sent, so the first hit may take a moment.
          let hit = r;
          let calls = 0;
          for (let i = 0; i < 20; i++) {
            const c0 = await simCalls(simUrl);
            hit = await send();
            calls = (await simCalls(simUrl)) - c0;
            if (hit.headers["x-llmgw-cache"] === "hit-exact") break;
            await sleep(100);
          }
          const header = String(hit.headers["x-llmgw-cache"] ?? "none");
          if (hit.status !== 200 || header !== "hit-exact" || calls !== 0 || fingerprintOf(hit.text) !== "fp_sim")
            problem = `cache-hit check: HTTP ${hit.status}, x-llmgw-cache ${header}, simulator calls +${calls}: ${hit.text.slice(0, 300)}`;
          note += `, then x-llmgw-cache: ${header} (+${calls} calls)`;
        }
        if (problem) {
          failures.push({ target: `${t.target}/${t.variant}/${model}`, error: problem });
          log(`!! ${t.target} (${t.variant}, ${model}) failed its check: ${problem.slice(0, 300)}`);
          await client.close();
          continue;
        }
        log(`checked ${t.target} (${t.variant}, ${model}): 200, ${note}`);
        rows.push({ t, model, client, warmups: new Map(), samples: new Map(), cpu: new Map(), rss: new Map(), cpuByProc: new Map(), cpuMain: new Map() });
      }
    }

    // Idle memory: every target has started and served its check request(s); let them rest 20 s, as the
    // issue reads "at rest" (20 s after the first request). V8's memory reducer gives start-up's garbage
    // back 15-25 s after start: read after 5 s, the embedded row swung between 194 and 261 MB with when
    // its process happened to start within the run.
    const idleRss = new Map<Target, number>();
    await sleep(IDLE_REST_MS);
    for (const t of targets) {
      const pids = targetPids(t);
      if (!pids.length) continue;
      await settle(pids);
      idleRss.set(t, rssMb(pids));
      log(`${t.target}/${t.variant}: idle RSS ${idleRss.get(t)?.toFixed(1)} MB (${pids.map((p) => `${processName(p)} ${(processRssKb(p) / 1024).toFixed(1)}`).join(", ")})`);
    }

    const random = createRng(Number(opts.seed));
    const shuffle = <T>(xs: readonly T[]): T[] => {
      // Fisher-Yates with a fixed seed: a different order each time, reproducible.
      const out = [...xs];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [out[i], out[j]] = [out[j] as T, out[i] as T];
      }
      return out;
    };
    const slotMs = durationMs / rounds;
    const total = rows.length * concurrencies.length * rounds;
    let done = 0;
    const specOf = (row: Row, c: number) => ({ path: row.t.path, headers: row.t.headers, body: benchBody(row.model, row.t.maxTokens), concurrency: c });
    // Each round visits the targets in a new order, and measures all of one target's rows (models x
    // concurrencies, shuffled) in one block: a target idles once per round, not before every slot, and
    // is warmed until its CPU per request stops falling at the start of its block (test/bench/warm-up.ts).
    // The CPU per request each target's last warm-up settled at: its next warm-up must come back near it.
    const warmCost = new Map<Target, number>();
    for (let round = 0; round < rounds; round++) {
      for (const t of shuffle(targets)) {
        const own = rows.filter((r) => r.t === t);
        const first = own[0];
        if (!first) continue;
        const pids = targetPids(t);
        // CPU per request of the target and the simulator (direct has no processes of its own).
        const warmPids = [...pids, sim.child.pid];
        const rss = rssSampler(pids);
        const warm = await warmUpUnderLoad(first.client, specOf(first, high), warmPids, { chunkMs: warmupMs, minChunks: 3, maxChunks: warmupMaxChunks, reference: warmCost.get(t) });
        const settledAt = warm.costs.at(-1);
        if (warm.settled && settledAt !== undefined) warmCost.set(t, settledAt);
        const warmPeak = rss.stop();
        log(`${t.target}/${t.variant}: warm after ${warm.seconds} s${warm.settled ? "" : " (cap)"} (CPU µs/req per chunk: ${warm.costs.map((x) => Math.round(x)).join(", ")})`);
        const slots = shuffle(concurrencies.flatMap((c) => own.map((row) => ({ row, c }))));
        for (const { row, c } of slots) {
          const spec = specOf(row, c);
          const rss = rssSampler(pids);
          // A short run at this slot's model and concurrency, so that the slot starts in its own rhythm.
          await row.client.run({ ...spec, durationMs: switchMs });
          await settle([...pids, sim.child.pid]);
          const w = row.warmups.get(c) ?? { seconds: [], capped: 0, cold: [] };
          w.seconds.push(warm.seconds);
          if (warm.costs[0] !== undefined) w.cold.push(warm.costs[0]);
          if (!warm.settled) w.capped++;
          row.warmups.set(c, w);
          const calls0 = await simCalls(simUrl);
          const infraPids = pidsNamed(INFRA_PROCESS_NAMES);
          const infra0 = cpuSnapshot(infraPids);
          const cpu0 = cpuSnapshot(pids);
          // One process: its main thread apart (the event loop) from its helper and worker threads.
          const mainPid = t.pids.length === 1 && !t.pidNames ? t.pids[0] : undefined;
          const main0 = mainPid === undefined ? 0 : mainThreadCpuUs(mainPid);
          const faults0 = faultSnapshot(pids);
          const others = targets.filter((x) => x !== t).flatMap((x) => targetPids(x));
          const others0 = cpuSnapshot(others);
          const res = await row.client.run({ ...spec, durationMs: slotMs });
          const cpu1 = cpuSnapshot(targetPids(t));
          if (mainPid !== undefined) row.cpuMain.set(c, (row.cpuMain.get(c) ?? 0) + Math.max(0, mainThreadCpuUs(mainPid) - main0));
          const faultsTarget = counterDelta(faults0, faultSnapshot(targetPids(t)));
          const othersUs = counterDelta(others0, cpuSnapshot(others));
          const cpuTarget = counterDelta(cpu0, cpu1);
          if (t.pidNames) {
            const by = row.cpuByProc.get(c) ?? {};
            for (const [pid, name] of t.pidNames) by[name] = (by[name] ?? 0) + counterDelta(new Map([[pid, cpu0.get(pid) ?? 0]]), new Map([[pid, cpu1.get(pid) ?? 0]]));
            row.cpuByProc.set(c, by);
          }
          // Backends that started during the slot count from 0.
          const cpuInfra = counterDelta(infra0, cpuSnapshot(pidsNamed(INFRA_PROCESS_NAMES)));
          const calls = (await simCalls(simUrl)) - calls0;
          const peak = Math.max(rss.stop(), warmPeak);
          row.rss.set(c, Math.max(row.rss.get(c) ?? 0, peak));
          const list = row.samples.get(c) ?? [];
          list.push(res);
          row.samples.set(c, list);
          const acc = row.cpu.get(c) ?? { target: 0, faults: 0, infra: 0, loadgen: 0, simCalls: 0 };
          row.cpu.set(c, { target: acc.target + cpuTarget, faults: acc.faults + faultsTarget, infra: acc.infra + cpuInfra, loadgen: acc.loadgen + res.cpuUs, simCalls: acc.simCalls + calls });
          done++;
          const errs = Object.values(res.errors).reduce((a, b) => a + b, 0);
          log(`[${done}/${total}] ${row.t.target}/${row.t.variant}/${row.model} c=${c}: ${Math.round((res.ok * 1000) / res.elapsedMs)} req/s, ${Math.round(cpuTarget / Math.max(1, res.ok))} µs/req${errs ? `, ${errs} ERRORS ${JSON.stringify(res.errors)}` : ""}; other targets used ${((100 * othersUs) / (res.elapsedMs * 1000)).toFixed(1)}% of a core`);
        }
      }
    }

    const runs: Run[] = [];
    for (const row of rows) {
      for (const c of concurrencies) {
        const merged = mergeSamples(row.samples.get(c) ?? []);
        const run = summarize({ target: row.t.target, variant: row.t.variant, model: row.model, concurrency: c }, merged);
        const cpu = row.cpu.get(c);
        if (cpu && merged.ok > 0) {
          if (row.t.pids.length) {
            run.target_cpu_us_per_req = cpu.target / run.requests;
            run.target_faults_per_req = cpu.faults / run.requests;
          }
          const by = row.cpuByProc.get(c);
          if (by) run.target_cpu_us_per_req_by_process = Object.fromEntries(Object.entries(by).map(([n, us]) => [n, us / run.requests]));
          const main = row.cpuMain.get(c);
          if (main !== undefined) run.target_main_thread_cpu_us_per_req = main / run.requests;
          run.infra_cpu_us_per_req = cpu.infra / run.requests;
          run.loadgen_cpu_us_per_req = cpu.loadgen / run.requests;
          run.sim_calls_per_req = cpu.simCalls / merged.ok;
        }
        const w = row.warmups.get(c);
        if (w && w.seconds.length) {
          run.warmup_s = w.seconds.reduce((a, b) => a + b, 0) / w.seconds.length;
          run.warmups_capped = w.capped;
          if (w.cold.length) run.cold_cpu_us_per_req = w.cold.reduce((a, b) => a + b, 0) / w.cold.length;
        }
        if (row.t.pids.length) {
          run.rss_mb = row.rss.get(c);
          run.idle_rss_mb = idleRss.get(row.t);
        }
        const problem = simCallsProblem(run, row.t.cacheHits === true);
        if (problem) failures.push({ target: `${run.target}/${run.variant}/${run.model} c=${c}`, error: problem });
        runs.push(run);
      }
    }
    const final = withAddedLatency(runs);
    const ratios = projectRatios(final, high);
    const comparisons = compareWithReferences(final, high);
    printRuns(final);
    printComparisons(comparisons);
    printRatios(ratios);
    const errorRuns = final.filter((r) => r.errors > 0);
    if (errorRuns.length) log(`\n!! ${errorRuns.length} rows had non-2xx or transport errors; their figures are not results.`);
    for (const f of failures) log(`!! ${f.target}: ${f.error.split("\n")[0]}`);

    const loadgenShare = final.map((r) => (r.loadgen_cpu_us_per_req ?? 0) * r.rps / 1e6);
    log(
      `\nNotes: our gateway is sent "x-llmgw-cache: off" (every request reaches the provider; sim calls/req shows it), except embedded/cache hit (cache on, every measured request an exact hit: sim calls/req 0). ` +
        `All processes share ${cpus().length} cores; the load generator used at most ${(100 * Math.max(0, ...loadgenShare)).toFixed(0)}% of one core. ` +
        `"target CPU µs/req" is the CPU of all the target's own processes per request (capacity per core, unaffected by the load generator sharing the machine); ` +
        `it excludes PostgreSQL, Redis and NATS, whose CPU during the slot is "infra CPU µs/req" (machine-wide: other users of those servers show up there too). ` +
        `RSS: peak of the summed VmRSS of the target's processes (sampled every 100 ms) during each row's slots; idle: after start, one request and 20 s of rest. ` +
        `mesh/in-process runs every service in ONE Node process (real RPC over loopback: Connect over HTTP/1.1 by default, LLMGW_RPC_CLIENT picks grpc-js or connect); mesh/processes runs 7 Node processes on these cores.`,
    );

    let profile: unknown;
    if (opts.profile) {
      for (const row of rows) await row.client.close();
      rows.length = 0;
      for (const t of targets.splice(0)) await t.stop();
      const which = opts.profile === "mesh" ? "mesh" : "embedded";
      const p = await profileGateway(which, simUrl, benchBody("gpt-4o-mini"), Math.max(durationMs, 8000), opts.profileConcurrency ? Number(opts.profileConcurrency) : high, opts.profileFile);
      printProfile(p);
      profile = p;
    }

    if (opts.json) {
      writeFileSync(
        opts.json,
        JSON.stringify(
          {
            date: new Date().toISOString(),
            node: process.version,
            cores: cpus().length,
            loadavg_at_start: loadAtStart,
            loadavg_at_end: loadavg(),
            host,
            duration_s_per_row: durationMs / 1000,
            rounds,
            warmup: { chunk_s: warmupMs / 1000, max_s: Number(opts.warmupMax), switch_s: switchMs / 1000, rule: "per round, each target's rows in one block; at its start, chunks at the highest concurrency until the CPU per request of the newest is within 5% of the mean of the two before it (at least 3); then per slot switch_s at the slot's model and concurrency" },
            cache: "x-llmgw-cache: off on our gateway except embedded/cache hit (cache on, exact hits); direct, bare and portkey have no cache in the path",
            request: JSON.parse(benchBody()) as unknown,
            runs: final,
            ratios,
            comparisons,
            failures,
            profile,
            wall_s: (Date.now() - started) / 1000,
          },
          null,
          2,
        ),
      );
      log(`wrote ${opts.json}`);
    }
    if (errorRuns.length || failures.length) process.exitCode = 1;
  } finally {
    for (const row of rows) await row.client.close().catch(() => undefined);
    for (const t of targets) await t.stop().catch((e: unknown) => log(`stop ${t.target} failed: ${String(e)}`));
    await stopChild(sim.child);
  }
}

await main();
