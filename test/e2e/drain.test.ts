// The mesh as Kubernetes runs it, in local processes: each service started with its Deployment's
// args, the llmgw-env ConfigMap's env, its container ports and its readiness probe (each port moved to
// 20000 + port % 10000: beside a local gateway, and below the ephemeral range other tests' sockets use), two router replicas behind one address
// list as a headless Service gives them. Under steady load one router replica gets SIGTERM (what a
// rolling update or a node drain sends): it turns unready, finishes its calls and exits 0, and the
// edge's round-robin client moves to the other replica: no request fails.
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { BUILD_OPTIONS } from "../../bin/build-options.mjs";
import { connect } from "nats";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { startSimulator, type Simulator } from "#libs/simulator/server.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const BASE = join(ROOT, "deploy", "k8s", "base");
/** 50051 → 20051, 9101 → 29101, 8080 → 28080. */
const local = (port: number): number => 20_000 + (port % 10_000);
const SECOND_ROUTER = 100;
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const ADMIN_KEY = "llmgw-drain-admin-key-0123456789";

type Doc = Record<string, unknown>;
const obj = (v: unknown): Doc => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Doc) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

interface Workload {
  name: string;
  entry: string;
  ports: Record<string, number>;
  readiness: { path: string; port: string };
}

/** Each Deployment of the base: its args, container ports and readiness probe. */
function workloads(): Workload[] {
  const kustomization = obj(parse(readFileSync(join(BASE, "kustomization.yaml"), "utf8")));
  const out: Workload[] = [];
  for (const file of list(kustomization.resources).map(String).filter((r) => r.endsWith(".yaml"))) {
    for (const doc of readFileSync(join(BASE, file), "utf8").split(/^---$/m).map((d) => obj(parse(d)))) {
      if (doc.kind !== "Deployment") continue;
      const c = obj(list(obj(obj(obj(doc.spec).template).spec).containers)[0]);
      const ports = Object.fromEntries(list(c.ports).map((p) => [String(obj(p).name), Number(obj(p).containerPort)]));
      const probe = obj(obj(c.readinessProbe).httpGet);
      out.push({ name: String(obj(doc.metadata).name), entry: String(list(c.args)[0]), ports, readiness: { path: String(probe.path), port: String(probe.port) } });
    }
  }
  return out;
}

/** The llmgw-env ConfigMap's literals. */
function envLiterals(): Record<string, string> {
  const kustomization = obj(parse(readFileSync(join(BASE, "kustomization.yaml"), "utf8")));
  const gen = list(kustomization.configMapGenerator).map(obj).find((g) => g.name === "llmgw-env");
  return Object.fromEntries(list(gen?.literals).map((l) => String(l).split(/=(.*)/s).slice(0, 2) as [string, string]));
}

describe("mesh from the manifests: a router replica drains under load", () => {
  const ns = `drain${randomUUID().slice(0, 6)}`;
  const dir = mkdtempSync(join(tmpdir(), "llmgw-drain-"));
  const outdir = join(ROOT, "node_modules", ".cache", `llmgw-drain-${process.pid}`);
  const procs = new Map<string, ChildProcess>();
  const logs = new Map<string, string[]>();
  let sim: Simulator;
  let edgeUrl = "";

  const spawnService = (id: string, entry: string, env: Record<string, string>) => {
    const p = spawn(process.execPath, [join(outdir, entry.replace(/\.ts$/, ".mjs"))], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const lines: string[] = [];
    logs.set(id, lines);
    const keep = (b: Buffer) => lines.push(...b.toString("utf8").split("\n").filter(Boolean).slice(-20));
    p.stdout?.on("data", keep);
    p.stderr?.on("data", keep);
    procs.set(id, p);
    return p;
  };

  const waitReady = async (id: string, url: string) => {
    for (let i = 0; i < 300; i++) {
      if (procs.get(id)?.exitCode !== null) throw new Error(`${id} exited: ${(logs.get(id) ?? []).slice(-10).join("\n")}`);
      const ok = await fetch(url).then((r) => r.status === 200, () => false);
      if (ok) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${id} not ready at ${url}`);
  };

  beforeAll(async () => {
    // The same entry points and options as `npm run build` (chunks included), into a private folder (no race with other tests).
    const entries = String(obj(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as unknown).scripts && (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: { build: string } }).scripts.build)
      .split(/\s+/)
      .filter((t) => t.endsWith(".ts"));
    mkdirSync(outdir, { recursive: true });
    await build({ ...BUILD_OPTIONS, entryPoints: entries.map((e) => join(ROOT, e)), outdir, outbase: ROOT });
    sim = await startSimulator({ port: 0 });

    const ws = workloads();
    expect(ws.map((w) => w.name).sort()).toEqual(["cache", "classifier", "edge", "evaluator", "ledger", "provider-executor", "router"]);
    const configKey: Record<string, string> = { "provider-executor": "executor" };
    const config = obj(parse(readFileSync(join(ROOT, "deploy", "config", "llmgw.yaml"), "utf8")));
    const services = obj(config.services);
    for (const w of ws) {
      if (w.name === "edge") continue;
      const s = obj(services[configKey[w.name] ?? w.name]);
      s.rpc_port = local(w.ports.grpc ?? 0);
      s.admin_port = local(w.ports.admin ?? 0);
    }
    obj(config.edge).port = local(ws.find((w) => w.name === "edge")?.ports.http ?? 0);
    const configPath = join(dir, "llmgw.yaml");
    writeFileSync(configPath, stringify(config));
    const router2 = structuredClone(config);
    const r2 = obj(obj(router2.services).router);
    r2.rpc_port = Number(r2.rpc_port) + SECOND_ROUTER;
    r2.admin_port = Number(r2.admin_port) + SECOND_ROUTER;
    const router2Path = join(dir, "llmgw-router-2.yaml");
    writeFileSync(router2Path, stringify(router2));

    // The ConfigMap's env with cluster names made local: `<svc>-headless:<port>` → this machine's
    // shifted port; the router's name resolves to both replicas, as a headless Service's would.
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(envLiterals())) {
      const m = /^([a-z-]+)-headless:(\d+)$/.exec(v);
      if (m) {
        const port = local(Number(m[2]));
        env[k] = m[1] === "router" ? `ipv4:127.0.0.1:${port},127.0.0.1:${port + SECOND_ROUTER}` : `127.0.0.1:${port}`;
      } else env[k] = v.replace(/^\/app\//, `${ROOT}/`);
    }
    Object.assign(env, {
      LLMGW_CONFIG: configPath,
      LLMGW_DATA_DIR: join(dir, "data"),
      PORT: String(local(Number(env.PORT))),
      LLMGW_EDGE_HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      // The Secret's part: infra URLs and an admin key, isolated by namespace on the shared servers.
      DATABASE_URL,
      REDIS_URL,
      NATS_URL,
      LLMGW_DATABASE_SCHEMA: `llmgw_${ns}`,
      LLMGW_CACHE_PREFIX: `llmgw:${ns}:cache`,
      LLMGW_BUDGET_PREFIX: `llmgw:${ns}:`,
      LLMGW_EVENTS_STREAM: `LLMGW_${ns.toUpperCase()}`,
      LLMGW_EVENTS_PREFIX: `llmgw.${ns}`,
      LLMGW_API_KEY: ADMIN_KEY,
      LLMGW_SIMULATOR_URL: sim.url,
    });
    mkdirSync(env.LLMGW_DATA_DIR ?? dir, { recursive: true });

    // Dependencies first (the order the service table builds in), the edge last, as readiness gates would.
    const order = ["ledger", "provider-executor", "classifier", "router", "evaluator", "cache", "edge"];
    for (const name of order) {
      const w = ws.find((x) => x.name === name);
      if (!w) throw new Error(`no Deployment ${name}`);
      const port = local(w.ports[w.readiness.port] ?? 0);
      spawnService(name, w.entry, env);
      await waitReady(name, `http://127.0.0.1:${port}${w.readiness.path}`);
      if (name === "router") {
        spawnService("router-2", w.entry, { ...env, LLMGW_CONFIG: router2Path });
        await waitReady("router-2", `http://127.0.0.1:${port + SECOND_ROUTER}${w.readiness.path}`);
      }
    }
    edgeUrl = `http://127.0.0.1:${env.PORT}`;
  }, 240_000);

  afterAll(async () => {
    await Promise.all(
      [...procs.values()].map(
        (p) =>
          new Promise<void>((r) => {
            if (p.exitCode !== null) return r();
            p.once("exit", () => r());
            p.kill("SIGTERM");
            setTimeout(() => p.kill("SIGKILL"), 10_000).unref();
          }),
      ),
    );
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(outdir, { recursive: true, force: true });
    const db = new pg.Client({ connectionString: DATABASE_URL });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS "llmgw_${ns}" CASCADE`).finally(() => db.end());
    const nc = await connect({ servers: NATS_URL });
    await (await nc.jetstreamManager()).streams.delete(`LLMGW_${ns.toUpperCase()}`).catch(() => false);
    await nc.close();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`llmgw:${ns}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }, 60_000);

  it("is ready, answers, and loses no request while a router replica drains", async () => {
    const failures: string[] = [];
    const ask = async (i: number) => {
      const r = await fetch(`${edgeUrl}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json", "x-llmgw-cache": "off" },
        body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: `What is ${i} plus ${i}?` }] }),
      });
      const text = await r.text();
      if (r.status !== 200) failures.push(`${r.status} ${text.slice(0, 300)}`);
      return r.status;
    };
    expect(await ask(0)).toBe(200);

    const statuses: number[] = [];
    let running = true;
    const worker = async (w: number) => {
      for (let i = 0; running; i++) statuses.push(await ask(w * 100_000 + i).catch(() => -1));
    };
    const workers = [0, 1, 2, 3].map(worker);
    await new Promise((r) => setTimeout(r, 1_500));
    const before = statuses.length;
    const router = procs.get("router");
    const exited = new Promise<number | null>((r) => router?.once("exit", (code) => r(code)));
    router?.kill("SIGTERM");
    expect(await exited).toBe(0);
    await new Promise((r) => setTimeout(r, 1_500));
    running = false;
    await Promise.all(workers);

    expect(before).toBeGreaterThan(0);
    expect(statuses.length).toBeGreaterThan(before);
    expect(failures).toEqual([]);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  }, 60_000);
});
