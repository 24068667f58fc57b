// One AbortSignal per attempt that fires on the first of: client gone, total deadline, attempt timeout,
// and remembers which, so the engine can answer 504 for timeouts and stay quiet for a vanished client.
export type AbortCause = "client" | "deadline" | "attempt_timeout";

export interface AttemptAbort {
  signal: AbortSignal;
  cause(): AbortCause | null;
  /** Stops the attempt timer (stream started: only the total deadline applies from here). */
  stopAttemptTimer(): void;
  /** Aborts the call on the caller's behalf (consumer stopped reading). */
  abort(): void;
  dispose(): void;
}

/**
 * One timer per attempt, not one per limit: it is set for whichever of the attempt timeout and the
 * total deadline comes first, and re-set for the deadline when the attempt timer stops (stream
 * started). A class, not closures: this runs once per provider call.
 */
class Attempt implements AttemptAbort {
  readonly signal: AbortSignal;
  private readonly ctl = new AbortController();
  private why: AbortCause | null = null;
  private timer: NodeJS.Timeout | undefined;
  /** What the pending timer stands for: the attempt timeout until stopped, then the deadline. */
  private timing: "attempt_timeout" | "deadline";
  private readonly onParent = (): void => this.fire("client");

  constructor(
    private readonly parent: AbortSignal | undefined,
    private readonly deadlineAt: number,
    attemptTimeoutMs: number,
    private readonly now: () => number,
  ) {
    this.signal = this.ctl.signal;
    if (parent?.aborted) this.fire("client");
    else parent?.addEventListener("abort", this.onParent);
    const deadlineMs = Math.max(0, deadlineAt - now());
    // On a tie the deadline wins, as it did when each limit had its own timer (the deadline's was set first).
    this.timing = attemptTimeoutMs < deadlineMs ? "attempt_timeout" : "deadline";
    this.timer = setTimeout(onTimer, this.timing === "deadline" ? deadlineMs : attemptTimeoutMs, this);
  }

  cause(): AbortCause | null {
    return this.why;
  }

  fire(c: AbortCause): void {
    if (this.why !== null) return;
    this.why = c;
    this.ctl.abort(new Error(c));
  }

  timeUp(): void {
    this.timer = undefined;
    this.fire(this.timing);
  }

  stopAttemptTimer(): void {
    if (this.timing !== "attempt_timeout") return;
    this.timing = "deadline";
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(onTimer, Math.max(0, this.deadlineAt - this.now()), this);
  }

  abort(): void {
    this.fire("client");
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.parent?.removeEventListener("abort", this.onParent);
  }
}

function onTimer(a: Attempt): void {
  a.timeUp();
}

export function attemptAbort(parent: AbortSignal | undefined, deadlineAt: number, attemptTimeoutMs: number, now: () => number): AttemptAbort {
  return new Attempt(parent, deadlineAt, attemptTimeoutMs, now);
}

/** Resolves after `ms`, or early (false) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
