// Issue #12: a batch survives its gateway process being KILLED (SIGKILL, no clean stop) mid-batch, not
// only the clean stops of batches-durable.test.ts. The embedded gateway runs as a child process
// (support/batch-kill-gateway.ts) on a PGlite directory on disk and reports each step of the batch worker
// on stdout; the simulator runs here, so it keeps every provider batch across the kills. Four kills:
// from outside while lines are being routed (after the first chunk is written), by itself just after the
// first provider batch is created (its sub-batch still "submitting"), from outside as soon as the first
// finished provider batch's lines are written (mid collection), and by itself just after the batch turned
// final. Then: every line back exactly once in input order, the error file exactly the failing lines,
// one provider batch per sub-batch key holding each line once, and one ledger row per succeeded line at
// the batch price, read from the PGlite files after a clean stop.
//
// Five process starts (PGlite initdb on the first) are nearly all of its time: measured 44 s at load
// average ~8 on 2 CPUs (13 s the first start, 6-7 s each restart) and 148 s at another moment of the same
// load (41 s, 19-24 s): hence the 240 s timeout.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { PGlite } from "@electric-sql/pglite";
import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { computeCost, fromOpenAIUsageJson, loadPriceTable } from "#libs/pricing/index.ts";
import { startSimulator, type Simulator } from "#libs/simulator/server.ts";
import { IDEMPOTENCY_KEY } from "#services/edge/batch-worker.ts";
import { batchLine, jsonl } from "./support/batches.ts";

const PORT = 30412;
const LINES = 300;
const MODELS = ["gpt-4o-mini", "auto", "gpt-4.1-nano"];
const failingLine = (i: number) => i % 23 === 5;
const text = (i: number) => `Batch kill question number ${i}: name a fruit${failingLine(i) ? " sim-fail" : ""}.`;

interface Child {
  proc: ChildProcess;
  url: string;
  tenantKey?: string;
  /** Every step the worker reported so far (support/batch-kill-gateway.ts). */
  steps: string[];
  /** Resolves with the first step (from now on or already seen) that matches. */
  step(match: (s: string) => boolean): Promise<string>;
  exited: Promise<NodeJS.Signals | null>;
}

/** Starts the gateway child (`killAt`: the step after which it SIGKILLs itself) and waits for its ready line. */
async function startChild(dir: string, simUrl: string, opts: { tenant?: string; killAt?: string } = {}): Promise<Child> {
  const proc = spawn(process.execPath, ["--import", "tsx", "test/e2e/support/batch-kill-gateway.ts"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, LLMGW_KILL_DIR: dir, LLMGW_KILL_SIM: simUrl, LLMGW_KILL_PORT: String(PORT), LLMGW_KILL_TENANT: opts.tenant ?? "", LLMGW_KILL_AT: opts.killAt ?? "" },
  });
  let stderr = "";
  proc.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4_000)));
  const steps: string[] = [];
  const waiters: { match: (s: string) => boolean; resolve: (s: string) => void }[] = [];
  const exited = new Promise<NodeJS.Signals | null>((r) => proc.once("exit", (_code, signal) => r(signal)));
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`gateway child exited (${code}) before ready\n${stderr}`));
    proc.once("exit", onExit);
    createInterface({ input: proc.stdout! }).on("line", (line) => {
      if (!line.startsWith("{")) return;
      const v = JSON.parse(line) as { ready?: boolean; url: string; tenantKey?: string; step?: string };
      if (v.step !== undefined) {
        steps.push(v.step);
        for (const w of waiters.filter((x) => x.match(v.step ?? ""))) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(v.step);
        }
        return;
      }
      if (!v.ready) return;
      proc.off("exit", onExit);
      const step = (match: (s: string) => boolean) =>
        new Promise<string>((res, rej) => {
          const seen = steps.find(match);
          if (seen !== undefined) return res(seen);
          waiters.push({ match, resolve: res });
          void exited.then((sig) => rej(new Error(`gateway child exited (${sig}) before the step; steps: ${steps.join(" ")}\n${stderr}`)));
        });
      resolve({ proc, url: v.url, steps, step, exited, ...(v.tenantKey ? { tenantKey: v.tenantKey } : {}) });
    });
  });
}

async function kill(c: Child, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  c.proc.kill(signal);
  await c.exited;
}

describe("batches survive SIGKILL of the gateway process (embedded, PGlite on disk)", () => {
  let sim: Simulator;
  let dir: string;
  let child: Child | undefined;

  beforeAll(async () => {
    // Provider batches take 3 s: long enough to kill the gateway while they run.
    sim = await startSimulator({ port: 0, batchDelayMs: 3_000 });
    dir = await mkdtemp(join(tmpdir(), "llmgw-batch-kill-"));
  }, 30_000);

  afterAll(async () => {
    if (child) await kill(child);
    await sim?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("killed while routing, while submitting, while collecting and once final: every line once, in order, billed once at batch price", async () => {
    let t = performance.now();
    const phase = (what: string) => {
      const now = performance.now();
      console.log(`batches-kill (${LINES} lines): ${what} ${Math.round(now - t)} ms`);
      t = now;
    };
    child = await startChild(dir, sim.url, { tenant: "kill-tenant" });
    const key = child.tenantKey ?? "";
    // Same port every start: one client throughout.
    const c = new OpenAI({ baseURL: `${child.url}/v1`, apiKey: key, maxRetries: 0 });
    phase("start");

    const input = Array.from({ length: LINES }, (_, i) => batchLine(`req-${i}`, MODELS[i % MODELS.length] ?? "auto", text(i))).join("\n");
    const file = await c.files.create({ file: await toFile(Buffer.from(input), "kill.jsonl"), purpose: "batch" });
    const created = await c.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    expect(created.request_counts?.total).toBe(LINES);

    const provider = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: "sim", maxRetries: 0 });
    const providerBatches = async () => {
      const mine: OpenAI.Batch[] = [];
      for await (const pb of provider.batches.list({ limit: 100 })) if (pb.metadata?.[IDEMPOTENCY_KEY]?.startsWith(`${created.id}:`)) mine.push(pb);
      return mine;
    };
    const killed = async (what: string, c0: Child) => {
      const signal = await c0.exited;
      const pbs = await providerBatches();
      console.log(`batches-kill: ${what}: exit ${signal}; steps before: ${c0.steps.join(" ")}; provider batches [${pbs.map((p) => p.status).join(",")}]`);
      phase(what);
      expect(signal).toBe("SIGKILL");
      return pbs;
    };

    // 1. From outside, with no warning, mid routing pass: as soon as the first chunk of routed lines is
    //    written the process is killed while it routes the next ones.
    await child.step((s) => s.startsWith("lines:") && s.includes("routed"));
    child.proc.kill("SIGKILL");
    expect(await killed("killed while routing", child)).toHaveLength(0);
    // Killed mid-pass: the routing pass had not finished (300 lines are 5 chunks).
    expect(child.steps).not.toContain("job:in_progress");

    // 2. Right after the provider created the first sub-batch, before the gateway recorded it "submitted":
    //    the restart must find it by its key, not create it again.
    child = await startChild(dir, sim.url, { killAt: "createBatch" });
    phase("restart");
    expect(await killed("killed just after CreateBatch", child)).toHaveLength(1);

    // 3. From outside, mid collection: as soon as the first finished provider batch's lines are written
    //    (their bills published to the in-process bus, perhaps not yet in the ledger).
    child = await startChild(dir, sim.url);
    phase("restart");
    await child.step((s) => s.startsWith("lines:") && s.includes("succeeded"));
    child.proc.kill("SIGKILL");
    await killed("killed while collecting", child);

    // 4. Just after the batch turned final (its last bills republished to the in-process bus just before).
    child = await startChild(dir, sim.url, { killAt: "job:completed" });
    phase("restart");
    await killed("killed once final", child);

    child = await startChild(dir, sim.url);
    phase("restart");
    const done = await c.batches.retrieve(created.id);
    expect(done.status).toBe("completed");
    const all = Array.from({ length: LINES }, (_, i) => i);
    const failing = all.filter(failingLine);
    const succeeded = all.filter((i) => !failingLine(i));
    expect(done.request_counts).toEqual({ total: LINES, completed: succeeded.length, failed: failing.length });
    const out = jsonl(await (await c.files.content(done.output_file_id ?? "")).text());
    const errs = jsonl(await (await c.files.content(done.error_file_id ?? "")).text());
    expect(out.map((l) => l.custom_id)).toEqual(succeeded.map((i) => `req-${i}`));
    expect(errs.map((l) => l.custom_id)).toEqual(failing.map((i) => `req-${i}`));
    for (const l of out) expect(l.response?.status_code).toBe(200);
    for (const l of errs) expect(l.response?.status_code).toBe(500);

    // One provider batch per sub-batch key, and together they hold every line exactly once.
    const pbs = await providerBatches();
    const keys = pbs.map((p) => p.metadata?.[IDEMPOTENCY_KEY] ?? "");
    expect(new Set(keys).size).toBe(keys.length);
    const models = new Set(out.map((l) => l.response?.body.model ?? ""));
    for (const m of models) expect(keys).toContain(`${created.id}:${m}`);
    expect(pbs.reduce((s, p) => s + (p.request_counts?.total ?? 0), 0)).toBe(LINES);

    // The ledger, read from the PGlite files after a clean stop: one row per succeeded line, batch price.
    const spent = async () => ((await (await fetch(`${child!.url}/v1/llmgw/spend?since=1h`, { headers: { authorization: `Bearer ${key}` } })).json()) as { total: { requests: number } }).total.requests;
    await vi.waitFor(async () => {
      if ((await spent()) < succeeded.length) throw new Error("ledger behind");
    }, { timeout: 5_000, interval: 100 }).catch(() => undefined);
    await kill(child, "SIGTERM");
    child = undefined;
    phase("verify and stop");
    const db = new PGlite(join(dir, "ledger"));
    try {
      const rows = (await db.query<{ request_id: string; model: string; cost_usd: string; batch: boolean }>(`SELECT request_id, model, cost_usd::text, batch FROM requests WHERE request_id LIKE $1`, [`${created.id}:%`])).rows;
      expect(rows.map((r) => Number(r.request_id.split(":")[1])).sort((a, b) => a - b)).toEqual(succeeded);
      expect(rows.every((r) => r.batch)).toBe(true);
      const prices = loadPriceTable();
      const byId = new Map(rows.map((r) => [r.request_id, r]));
      const at = new Date();
      for (const l of out) {
        const row = byId.get(`${created.id}:${l.custom_id.slice(4)}`);
        const body = l.response?.body;
        if (!row || !body) throw new Error(`no row or body for ${l.custom_id}`);
        const want = computeCost(prices, fromOpenAIUsageJson(body.usage), row.model, at, { batch: true });
        expect(want.unpriced).toBe(false);
        expect(Number(row.cost_usd)).toBeCloseTo(Number(want.costUsd), 12);
      }
      const calls = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM calls WHERE request_id LIKE $1 AND kind = 'batch'`, [`${created.id}:%`])).rows[0]?.n;
      expect(calls).toBe(succeeded.length);
    } finally {
      await db.close();
    }
  }, 240_000);
});
