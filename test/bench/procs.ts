// Child processes for the benchmark: start, wait until ready, read their CPU time, stop. Every target
// runs in processes of its own so the load generator (this process) never shares an event loop with it.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
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

export function jsonLine<T>(line: string, isT: (v: unknown) => v is T): T | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const v: unknown = JSON.parse(line);
    return isT(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** user + system CPU of a process (all its threads), microseconds. Linux /proc, 100 Hz ticks. */
export function processCpuUs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // After "pid (comm) ": state is field 0, utime 11, stime 12.
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return 0;
  }
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
