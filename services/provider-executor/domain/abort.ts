// One abort per attempt that fires on the first of: client gone, total deadline, attempt timeout,
// and remembers which, so the engine can answer 504 for timeouts and stay quiet for a vanished client.
import { EventEmitter } from "node:events";
import type { AbortEmitter } from "../providers/types.ts";

export type { AbortEmitter };

export type AbortCause = "client" | "deadline" | "attempt_timeout";

export interface AttemptAbort {
  /**
   * The attempt's AbortSignal, made on first read (SDK calls, live queues, a caller waiting for a slot):
   * Node builds an AbortSignal at some cost, and the direct provider call takes `emitter` instead.
   */
  readonly signal: AbortSignal;
  /** The same abort as an AbortEmitter, for undici's request(). */
  readonly emitter: AbortEmitter;
  /** Whether the attempt is aborted (without making its AbortSignal). */
  readonly aborted: boolean;
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
class Attempt extends EventEmitter implements AttemptAbort, AbortEmitter {
  private ctl: AbortController | undefined;
  private why: AbortCause | null = null;
  private error: Error | undefined;
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
    super();
    if (parent?.aborted) this.fire("client");
    else parent?.addEventListener("abort", this.onParent);
    const deadlineMs = Math.max(0, deadlineAt - now());
    // On a tie the deadline wins, as it did when each limit had its own timer (the deadline's was set first).
    this.timing = attemptTimeoutMs < deadlineMs ? "attempt_timeout" : "deadline";
    this.timer = setTimeout(onTimer, this.timing === "deadline" ? deadlineMs : attemptTimeoutMs, this);
  }

  get signal(): AbortSignal {
    if (!this.ctl) {
      this.ctl = new AbortController();
      if (this.error) this.ctl.abort(this.error);
    }
    return this.ctl.signal;
  }

  get emitter(): AbortEmitter {
    return this;
  }

  get aborted(): boolean {
    return this.why !== null;
  }

  /** As an AbortSignal's: an Error named by the cause once aborted. */
  get reason(): unknown {
    return this.error;
  }

  cause(): AbortCause | null {
    return this.why;
  }

  fire(c: AbortCause): void {
    if (this.why !== null) return;
    this.why = c;
    this.error = new Error(c);
    this.ctl?.abort(this.error);
    this.emit("abort");
    // Fires once, as an AbortSignal does: nobody waits for a second "abort".
    this.removeAllListeners("abort");
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
