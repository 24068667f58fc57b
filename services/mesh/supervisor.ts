// Keeps the mesh's processes running: one that exits when nobody asked it to is started again after
// an exponential backoff (reset once it has stayed up a while), and the others keep serving. Only
// stop() (SIGTERM/SIGINT on the launcher) ends them all: the death of one process never does.
import type { ChildProcess } from "node:child_process";

export interface SupervisedSpec {
  name: string;
  /** Starts the process (called again on every restart). */
  start(): ChildProcess;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** A process that stayed up this long starts again from initialMs after its next exit. */
  stableMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 30_000, stableMs: 30_000 };

/** Delay before restart number `attempt` (0-based): initial × 2^attempt, capped. */
export function backoffMs(attempt: number, o: Pick<BackoffOptions, "initialMs" | "maxMs"> = DEFAULT_BACKOFF): number {
  return Math.min(o.maxMs, o.initialMs * 2 ** Math.min(attempt, 30));
}

export interface SupervisorEvents {
  exited?(name: string, code: number | null, signal: NodeJS.Signals | null, restartInMs: number | undefined): void;
  restarted?(name: string, restarts: number): void;
}

interface Running {
  spec: SupervisedSpec;
  proc: ChildProcess;
  startedAt: number;
  attempt: number;
  restarts: number;
  timer?: NodeJS.Timeout;
}

export class Supervisor {
  private readonly running = new Map<string, Running>();
  private stopping = false;

  constructor(
    private readonly backoff: BackoffOptions = DEFAULT_BACKOFF,
    private readonly events: SupervisorEvents = {},
  ) {}

  /** Starts a process and keeps it running. */
  add(spec: SupervisedSpec): ChildProcess {
    const r: Running = { spec, proc: spec.start(), startedAt: Date.now(), attempt: 0, restarts: 0 };
    this.running.set(spec.name, r);
    this.watch(r);
    return r.proc;
  }

  /** Restarts so far, by process name. */
  restarts(): Record<string, number> {
    return Object.fromEntries([...this.running].map(([n, r]) => [n, r.restarts]));
  }

  pid(name: string): number | undefined {
    return this.running.get(name)?.proc.pid;
  }

  /** SIGTERM to every process; SIGKILL to those still alive after graceMs. Resolves when all exited. */
  async stop(graceMs = 12_000): Promise<void> {
    this.stopping = true;
    const waits = [...this.running.values()].map((r) => {
      if (r.timer) clearTimeout(r.timer);
      if (r.proc.exitCode !== null || r.proc.signalCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const kill = setTimeout(() => r.proc.kill("SIGKILL"), graceMs);
        r.proc.once("exit", () => {
          clearTimeout(kill);
          resolve();
        });
        r.proc.kill("SIGTERM");
      });
    });
    await Promise.all(waits);
  }

  private watch(r: Running): void {
    r.proc.once("exit", (code, signal) => {
      if (this.stopping) return this.events.exited?.(r.spec.name, code, signal, undefined);
      if (Date.now() - r.startedAt >= this.backoff.stableMs) r.attempt = 0;
      const delay = backoffMs(r.attempt, this.backoff);
      r.attempt++;
      this.events.exited?.(r.spec.name, code, signal, delay);
      r.timer = setTimeout(() => {
        if (this.stopping) return;
        r.proc = r.spec.start();
        r.startedAt = Date.now();
        r.restarts++;
        this.watch(r);
        this.events.restarted?.(r.spec.name, r.restarts);
      }, delay);
    });
  }
}
