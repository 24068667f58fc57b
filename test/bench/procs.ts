// Child processes for the benchmark: start, wait until ready, read their CPU time, stop. Every target
// runs in processes of its own so the load generator (this process) never shares an event loop with it.
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** Last lines of stderr, for a useful message when it dies. */
  stderrTail(): string;
  /** Calls `fn` with every later stdout line. */
  onLine(fn: (line: string) => void): void;
}

/**
 * What `npm start`, `npm run mesh` and the Docker image set before node (glibc reads it only at process
 * start; see bin/heap-policy.mjs): every process of our gateway the bench starts gets it too.
 */
export const LAUNCHER_ENV: Record<string, string> = { MALLOC_TRIM_THRESHOLD_: process.env.MALLOC_TRIM_THRESHOLD_ ?? "131072" };

export function spawnChild(name: string, args: string[], env: Record<string, string>, onStdoutLine?: (line: string) => void): Child {
  const proc = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  if (proc.pid === undefined) throw new Error(`${name}: could not spawn`);
  let err = "";
  proc.stderr?.on("data", (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  let buf = "";
  const listeners: ((line: string) => void)[] = onStdoutLine ? [onStdoutLine] : [];
  proc.stdout?.on("data", (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      for (const l of listeners) l(line);
    }
  });
  return { name, proc, pid: proc.pid, stderrTail: () => err, onLine: (fn) => listeners.push(fn) };
}

/** Resolves with the first stdout line `accept` returns a value for; rejects if the child exits first. */
export function waitForLine<T>(name: string, args: string[], env: Record<string, string>, accept: (line: string) => T | undefined, timeoutMs = 90_000): Promise<{ child: Child; value: T }> {
  return new Promise((resolve, reject) => {
    let done = false;
    const child = spawnChild(name, args, env, (line) => {
      if (done) return;
      const v = accept(line);
      if (v !== undefined) {
        done = true;
        clearTimeout(timer);
        resolve({ child, value: v });
      }
    });
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      child.proc.kill("SIGKILL");
      reject(new Error(`${name}: not ready after ${timeoutMs} ms\n${child.stderrTail()}`));
    }, timeoutMs);
    child.proc.once("exit", (code) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new Error(`${name}: exited with ${code} before ready\n${child.stderrTail()}`));
    });
  });
}

/**
 * The project's provider simulator in a child process, from this checkout; resolves with its URL once it
 * listens. Zero latency and unlimited tokens per second unless `env` says otherwise.
 */
export async function startSimulator(env: Record<string, string> = { SIM_LATENCY_MS: "0", SIM_TPS: "0" }): Promise<{ child: Child; url: string }> {
  const port = await freePort();
  const { child, value } = await waitForLine("simulator", ["--import", "tsx", "libs/simulator/main.ts"], { ...env, SIM_PORT: String(port) }, (l) =>
    jsonLine(l, (v): v is { url: string } => typeof v === "object" && v !== null && typeof (v as { url?: unknown }).url === "string"),
  );
  return { child, url: value.url };
}

export function jsonLine<T>(line: string, isT: (v: unknown) => v is T): T | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const v: unknown = JSON.parse(line);
    return isT(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

// The command name may hold spaces and parentheses: fields are counted after the last ")". After
// "pid (comm) ": state is field 0, ppid 1, minflt 7, utime 11, stime 12.
const statFields = (stat: string): string[] => stat.slice(stat.lastIndexOf(")") + 2).split(" ");

/** utime + stime from the text of /proc/<pid>/stat, microseconds (100 Hz ticks). */
export function parseStatCpuUs(stat: string): number {
  const fields = statFields(stat);
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** Minor page faults (minflt) from the text of /proc/<pid>/stat: pages the kernel mapped in on first touch, all threads. */
export function parseStatMinflt(stat: string): number {
  return Number(statFields(stat)[7]);
}

/** The parent pid from the text of /proc/<pid>/stat. */
export function parseStatPpid(stat: string): number {
  return Number(statFields(stat)[1]);
}

/** A `kB` field (VmRSS, VmHWM...) of /proc/<pid>/status, in kB; undefined when absent (kernel thread, zombie). */
export function parseStatusKb(status: string, field: "VmRSS" | "VmHWM"): number | undefined {
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m").exec(status);
  return m ? Number(m[1]) : undefined;
}

/** One value read from /proc/<pid>/stat (or a thread's, `task/<tid>/stat`), 0 when it is gone. */
function fromStat(pid: number, parse: (stat: string) => number, file = "stat"): number {
  try {
    return parse(readFileSync(`/proc/${pid}/${file}`, "utf8"));
  } catch {
    return 0;
  }
}

/** user + system CPU of a process (all its threads), microseconds. Linux /proc, 100 Hz ticks. */
export const processCpuUs = (pid: number): number => fromStat(pid, parseStatCpuUs);

/**
 * user + system CPU of a process's main thread only (its first thread's tid is its pid), microseconds: the
 * event loop. The rest of a Node process's CPU is V8's helper threads (concurrent marking, parallel
 * scavenges, compilation), worker threads (the embedded ledger's PGlite) and libuv's pool.
 */
export const mainThreadCpuUs = (pid: number): number => fromStat(pid, parseStatCpuUs, `task/${pid}/stat`);

/** Minor page faults of a process so far. */
export const processMinflt = (pid: number): number => fromStat(pid, parseStatMinflt);

/** Resident set size of a process now, kB (0 when it is gone). */
export function processRssKb(pid: number): number {
  try {
    return parseStatusKb(readFileSync(`/proc/${pid}/status`, "utf8"), "VmRSS") ?? 0;
  } catch {
    return 0;
  }
}

/** Summed resident set of the processes, MB (MiB). */
export function rssMb(pids: readonly number[]): number {
  return pids.reduce((s, p) => s + processRssKb(p), 0) / 1024;
}

/** The command name of a process (/proc/<pid>/comm), "?" when it is gone. */
export function processName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "?";
  }
}

function procPids(): number[] {
  return readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number);
}

/** The processes whose command name (/proc/<pid>/comm) is one of `names`, e.g. every PostgreSQL backend. */
export function pidsNamed(names: readonly string[]): number[] {
  const out: number[] = [];
  for (const pid of procPids()) {
    try {
      if (names.includes(readFileSync(`/proc/${pid}/comm`, "utf8").trim())) out.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The servers the mesh uses; their CPU is reported apart from the gateway's (`infra_cpu_us_per_req`). */
export const INFRA_PROCESS_NAMES = ["postgres", "redis-server", "nats-server"] as const;

/** The roots and every process below them (a child a gateway process may have spawned). */
export function withDescendants(roots: readonly number[]): number[] {
  const parent = new Map<number, number>();
  for (const pid of procPids()) {
    try {
      parent.set(pid, parseStatPpid(readFileSync(`/proc/${pid}/stat`, "utf8")));
    } catch {
      // gone meanwhile
    }
  }
  return descendantsOf(roots, parent);
}

/** Pure part of withDescendants: the roots and all processes whose parent chain reaches one of them. */
export function descendantsOf(roots: readonly number[], parentOf: ReadonlyMap<number, number>): number[] {
  const out = new Set(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parentOf) {
      if (!out.has(pid) && out.has(ppid)) {
        out.add(pid);
        grew = true;
      }
    }
  }
  return [...out];
}

/** Minor page faults of each process now, for counterDelta. */
export function faultSnapshot(pids: readonly number[]): Map<number, number> {
  return new Map(pids.map((p) => [p, processMinflt(p)]));
}

/** CPU of each process now, microseconds, for counterDelta. */
export function cpuSnapshot(pids: readonly number[]): Map<number, number> {
  return new Map(pids.map((p) => [p, processCpuUs(p)]));
}

/** Samples the summed VmRSS of the processes every `everyMs` until stopped; stop() returns the peak, MB. */
export function rssSampler(pids: readonly number[], everyMs = 100): { stop(): number } {
  let peak = rssMb(pids);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMb(pids));
  }, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, rssMb(pids));
    },
  };
}

export async function stopChild(c: Child, graceMs = 15_000): Promise<void> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => c.proc.once("exit", () => r()));
  c.proc.kill("SIGTERM");
  const t = setTimeout(() => c.proc.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(t);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function waitHttpOk(url: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (${last})`);
}

/** Waits until the processes are nearly idle (background work of the previous run done), at most maxMs. */
export async function settle(pids: readonly number[], maxMs = 4_000, idleShare = 0.08): Promise<void> {
  const end = Date.now() + maxMs;
  while (Date.now() < end) {
    const c0 = pids.reduce((s, p) => s + processCpuUs(p), 0);
    await new Promise((r) => setTimeout(r, 300));
    const used = pids.reduce((s, p) => s + processCpuUs(p), 0) - c0;
    if (used <= 300_000 * idleShare) return;
  }
}
