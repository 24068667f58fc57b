// The systems under test, each started in its own process(es) and pointed at the same simulator.
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "nats";
import { Redis } from "ioredis";
import pg from "pg";
import { Pool } from "undici";
import { parse, stringify } from "yaml";
import { entryArgs } from "./compiled-entry.ts";
import { EMBEDDED_VARIANT, type Run } from "./stats.ts";
import { freePort, jsonLine, LAUNCHER_ENV, stopChild, waitForLine, waitHttpOk, spawnChild, type Child } from "./procs.ts";

export interface Target {
  target: Run["target"];
  variant: string;
  origin: string;
  path: string;
  headers: Record<string, string>;
  /** Models to measure; our gateway adds "auto" (routed) when asked. */
  models: string[];
  /** Processes whose CPU and memory are the target's own (the simulator is not; nor are PostgreSQL, Redis, NATS). */
  pids: number[];
  /** Every measured request is expected to be an exact-cache hit (0 simulator calls); otherwise every one reaches the provider. */
  cacheHits?: boolean;
  /** max_tokens of the request when it must differ from the shared body's 64. */
  maxTokens?: number;
  /** Names of the target's processes, when it has several (mesh/processes): their CPU is also reported per process. */
  pidNames?: ReadonlyMap<number, string>;
  /** The gateway process, when the target is one process (for profiling signals). */
  child?: Child;
  stop(): Promise<void>;
}

export const CHAT_PATH = "/v1/chat/completions";
export const PROVIDER_KEY = "sk-bench-simulator";

interface Ready {
  url: string;
  key: string;
}
const isReady = (v: unknown): v is Ready => typeof v === "object" && v !== null && typeof (v as Ready).url === "string" && typeof (v as Ready).key === "string";
/** serve-embedded.ts marks its line, since with logs on (npm start defaults) stdout carries pino's lines too. */
const isEmbeddedReady = (v: unknown): v is Ready => isReady(v) && (v as { benchReady?: unknown }).benchReady === true;

/** Our gateway: the cache is switched off per request so every request reaches the provider. */
function gatewayHeaders(key: string): Record<string, string> {
  return { "content-type": "application/json", authorization: `Bearer ${key}`, "x-llmgw-cache": "off" };
}

export function directTarget(simUrl: string): Target {
  return {
    target: "direct",
    variant: "simulator",
    origin: simUrl,
    path: CHAT_PATH,
    headers: { "content-type": "application/json", authorization: `Bearer ${PROVIDER_KEY}` },
    models: ["gpt-4o-mini"],
    pids: [],
    stop: async () => undefined,
  };
}

async function startEmbeddedChild(name: string, simUrl: string, env: Record<string, string>): Promise<{ child: Child; value: Ready }> {
  const key = `llmgw-bench-${randomUUID().replaceAll("-", "")}`;
  return waitForLine(name, entryArgs("test/bench/serve-embedded.ts", env), { ...LAUNCHER_ENV, ...env, BENCH_SIM_URL: simUrl, BENCH_KEY: key }, (l) => jsonLine(l, isEmbeddedReady));
}

/** The embedded gateway as the overhead figures measure it: silent logger, PGlite in memory, cache off per request. */
export async function embeddedTarget(simUrl: string, withAuto: boolean, extraEnv: Record<string, string> = {}): Promise<Target> {
  const { child, value } = await startEmbeddedChild("embedded", simUrl, extraEnv);
  return {
    target: "embedded",
    variant: EMBEDDED_VARIANT,
    origin: value.url,
    path: CHAT_PATH,
    headers: gatewayHeaders(value.key),
    models: withAuto ? ["gpt-4o-mini", "auto"] : ["gpt-4o-mini"],
    pids: [child.pid],
    child,
    stop: () => stopChild(child),
  };
}

/**
 * `npm start`'s real defaults: pino at info level (one access-log line per request) written to the
 * child's stdout, which this process drains, and the ledger in PGlite on disk (a temp dir, removed on stop).
 */
export async function embeddedDefaultsTarget(simUrl: string): Promise<Target> {
  const dataDir = mkdtempSync(join(tmpdir(), "llmgw-bench-data-"));
  const remove = (): void => rmSync(dataDir, { recursive: true, force: true });
  let started: { child: Child; value: Ready };
  try {
    started = await startEmbeddedChild("embedded-defaults", simUrl, { BENCH_DEFAULTS: "1", BENCH_DATA_DIR: dataDir, LOG_LEVEL: "info" });
  } catch (e) {
    remove();
    throw e;
  }
  const { child, value } = started;
  return {
    target: "embedded",
    variant: "npm start defaults",
    origin: value.url,
    path: CHAT_PATH,
    headers: gatewayHeaders(value.key),
    models: ["gpt-4o-mini"],
    pids: [child.pid],
    child,
    stop: async () => {
      await stopChild(child);
      remove();
    },
  };
}

/**
 * The embedded gateway with its cache on: the same request repeated, so every measured request is an
 * exact hit. max_tokens 512: with 64 the simulator's answer is cut (finish_reason "length"), and a
 * truncated answer is never stored.
 */
export async function cacheHitTarget(simUrl: string): Promise<Target> {
  const { child, value } = await startEmbeddedChild("cache-hit", simUrl, {});
  const headers = gatewayHeaders(value.key);
  delete headers["x-llmgw-cache"];
  return {
    target: "embedded",
    variant: "cache hit",
    origin: value.url,
    path: CHAT_PATH,
    headers,
    models: ["gpt-4o-mini"],
    pids: [child.pid],
    cacheHits: true,
    maxTokens: 512,
    child,
    stop: () => stopChild(child),
  };
}

/**
 * The floor any Node gateway stands on: node:http in, JSON.parse, undici keep-alive Pool out to the
 * simulator, status and content-type back (bare-proxy.ts).
 */
export async function bareTarget(simUrl: string, extraEnv: Record<string, string> = {}): Promise<Target> {
  const { child, value } = await waitForLine("bare", entryArgs("test/bench/bare-proxy.ts", extraEnv), { ...extraEnv, BENCH_SIM_URL: simUrl }, (l) =>
    jsonLine(l, (v): v is { url: string } => typeof v === "object" && v !== null && typeof (v as { url?: unknown }).url === "string"),
  );
  return {
    target: "bare",
    variant: "node:http + undici",
    origin: value.url,
    path: CHAT_PATH,
    headers: { "content-type": "application/json", authorization: `Bearer ${PROVIDER_KEY}` },
    models: ["gpt-4o-mini"],
    pids: [child.pid],
    child,
    stop: () => stopChild(child),
  };
}

export async function meshInProcessTarget(simUrl: string, withAuto: boolean, extraEnv: Record<string, string> = {}): Promise<Target> {
  const { child, value } = await waitForLine("mesh", entryArgs("test/bench/serve-mesh.ts", extraEnv), { ...LAUNCHER_ENV, ...extraEnv, BENCH_SIM_URL: simUrl }, (l) => jsonLine(l, isReady));
  return {
    target: "mesh",
    variant: "in-process",
    origin: value.url,
    path: CHAT_PATH,
    headers: gatewayHeaders(value.key),
    models: withAuto ? ["gpt-4o-mini", "auto"] : ["gpt-4o-mini"],
    pids: [child.pid],
    child,
    stop: () => stopChild(child),
  };
}

export async function portkeyTarget(simUrl: string): Promise<Target> {
  const port = await freePort();
  const entry = "node_modules/@portkey-ai/gateway/build/start-server.js";
  const { child } = await waitForLine("portkey", [entry, `--port=${port}`, "--headless"], {}, (l) => (l.includes("Ready for connections") ? true : undefined));
  return {
    target: "portkey",
    variant: "@portkey-ai/gateway",
    origin: `http://127.0.0.1:${port}`,
    path: CHAT_PATH,
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${PROVIDER_KEY}`,
      "x-portkey-provider": "openai",
      "x-portkey-custom-host": `${simUrl}/v1`,
    },
    models: ["gpt-4o-mini"],
    pids: [child.pid],
    stop: () => stopChild(child),
  };
}

const MESH_SERVICES: ReadonlyArray<{ name: "executor" | "classifier" | "cache" | "router" | "ledger" | "evaluator"; main: string }> = [
  { name: "executor", main: "services/provider-executor/main.ts" },
  { name: "classifier", main: "services/classifier/main.ts" },
  { name: "cache", main: "services/cache/main.ts" },
  { name: "router", main: "services/router/main.ts" },
  { name: "ledger", main: "services/ledger/main.ts" },
  { name: "evaluator", main: "services/evaluator/main.ts" },
];

/**
 * Requests the mesh gets before it is measured. The bench warms every target for a fixed time (2 s
 * before the first slot); one process at ~3,000 req/s gets its hot paths JIT-compiled in that time,
 * but seven processes at ~300 req/s (c=1) do not: their p50 at c=1 falls from ~8 ms over the first
 * 250 requests to its steady ~2.7 ms only after ~2,000 (measured 2026-12-01), so the slot measured
 * warm-up, not the mesh. A count instead of a time: BENCH_MESH_WARMUP overrides it (0: none).
 */
const MESH_WARMUP_REQUESTS = 2_500;

async function warmMesh(origin: string, headers: Record<string, string>, requests: number): Promise<void> {
  if (!(requests > 0)) return;
  const body = JSON.stringify({ model: "gpt-4o-mini", max_tokens: 64, messages: [{ role: "user", content: "Warm-up: what does an LLM gateway do?" }] });
  const conc = 4;
  const pool = new Pool(origin, { connections: conc });
  let left = requests;
  let failed = 0;
  let last = "";
  try {
    await Promise.all(
      Array.from({ length: conc }, async () => {
        while (left-- > 0) {
          const r = await pool.request({ path: CHAT_PATH, method: "POST", headers, body });
          const text = await r.body.text();
          if (r.statusCode !== 200) {
            failed++;
            last = `HTTP ${r.statusCode}: ${text.slice(0, 200)}`;
          }
        }
      }),
    );
  } finally {
    await pool.close();
  }
  if (failed > requests / 10) throw new Error(`mesh warm-up: ${failed} of ${requests} requests failed (${last})`);
}

/**
 * The mesh as `npm run mesh` / Kubernetes runs it: every service its own Node process (7 on 2 cores),
 * real NATS, Redis and PostgreSQL. Isolated by a fresh database, stream, subjects and key prefixes;
 * all removed on stop.
 */
export async function meshProcessesTarget(simUrl: string): Promise<Target> {
  const id = randomUUID().slice(0, 8);
  const adminUrl = process.env.BENCH_PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const dbName = `llmgw_bench_${id}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();

  const raw = parse(readFileSync("deploy/config/llmgw.yaml", "utf8")) as { services: Record<string, { address: string; rpc_port: number; admin_port: number }> };
  const adminPorts: Record<string, number> = {};
  for (const s of MESH_SERVICES) {
    const rpc = await freePort();
    adminPorts[s.name] = await freePort();
    raw.services[s.name] = { address: `127.0.0.1:${rpc}`, rpc_port: rpc, admin_port: adminPorts[s.name] as number };
  }
  const configPath = join(tmpdir(), `llmgw-bench-${id}.yaml`);
  writeFileSync(configPath, stringify(raw));
  const edgePort = await freePort();
  const key = `llmgw-bench-${randomUUID().replaceAll("-", "")}`;
  const stream = `LLMGW_BENCH_${id.toUpperCase()}`;
  const env: Record<string, string> = {
    ...LAUNCHER_ENV,
    LLMGW_CONFIG: configPath,
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${dbName}`,
    LLMGW_SIMULATOR_URL: simUrl,
    LLMGW_EVENTS_STREAM: stream,
    LLMGW_EVENTS_PREFIX: `llmgw.bench${id}`,
    LLMGW_CACHE_PREFIX: `llmgw:bench${id}:cache`,
    LLMGW_BUDGET_PREFIX: `llmgw:bench${id}:`,
    LLMGW_API_KEY: key,
    PORT: String(edgePort),
    LLMGW_EDGE_HOST: "127.0.0.1",
    // Same as the other targets: no per-request log lines (the embedded target uses a silent logger).
    LOG_LEVEL: "warn",
  };
  const children: Child[] = [];
  const cleanup = async (): Promise<void> => {
    for (const c of children.reverse()) await stopChild(c).catch(() => undefined);
    rmSync(configPath, { force: true });
    const nc = await connect({ servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222" });
    await (await nc.jetstreamManager()).streams.delete(stream).catch(() => false);
    await nc.close();
    const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
    const keys = await redis.keys(`llmgw:bench${id}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    const a = new pg.Client({ connectionString: adminUrl });
    await a.connect();
    await a.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await a.end();
  };
  // As `npm run mesh` and the image run them: the compiled bundles (npm run build), no TypeScript loader.
  execFileSync("npm", ["run", "build"], { stdio: "ignore" });
  // BENCH_MESH_NODE_ARGS: extra node flags for every mesh process (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p").
  const nodeArgs = (process.env.BENCH_MESH_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const compiled = (main: string): string[] => [...nodeArgs, "bin/llmgw.mjs", main];
  try {
    // The ledger first and alone: it migrates the fresh database and provisions the stream.
    const ledger = MESH_SERVICES.find((s) => s.name === "ledger");
    if (ledger) {
      children.push(spawnChild("ledger", compiled(ledger.main), env));
      await waitHttpOk(`http://127.0.0.1:${adminPorts.ledger}/readyz`);
    }
    for (const s of MESH_SERVICES) if (s.name !== "ledger") children.push(spawnChild(s.name, compiled(s.main), env));
    children.push(spawnChild("edge", compiled("services/edge/main.ts"), env));
    for (const s of MESH_SERVICES) await waitHttpOk(`http://127.0.0.1:${adminPorts[s.name]}/readyz`);
    await waitHttpOk(`http://127.0.0.1:${edgePort}/readyz`);
  } catch (e) {
    const dead = children.filter((c) => c.proc.exitCode !== null).map((c) => `${c.name}: ${c.stderrTail()}`);
    await cleanup().catch(() => undefined);
    throw new Error(`mesh processes did not start: ${e instanceof Error ? e.message : String(e)}\n${dead.join("\n")}`);
  }
  // Edge + 6 services: CPU and memory are summed over all of them.
  if (children.length !== MESH_SERVICES.length + 1) {
    await cleanup().catch(() => undefined);
    throw new Error(`mesh processes: expected ${MESH_SERVICES.length + 1} processes, have ${children.length}`);
  }
  try {
    await warmMesh(`http://127.0.0.1:${edgePort}`, gatewayHeaders(key), Number(process.env.BENCH_MESH_WARMUP ?? MESH_WARMUP_REQUESTS));
  } catch (e) {
    await cleanup().catch(() => undefined);
    throw e;
  }
  return {
    target: "mesh",
    variant: "processes",
    origin: `http://127.0.0.1:${edgePort}`,
    path: CHAT_PATH,
    headers: gatewayHeaders(key),
    models: ["gpt-4o-mini"],
    pids: children.map((c) => c.pid),
    pidNames: new Map(children.map((c) => [c.pid, c.name])),
    stop: cleanup,
  };
}
