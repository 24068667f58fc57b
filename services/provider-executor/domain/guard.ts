// Per-deployment circuit breaker + bulkhead (cockatiel). A caller takes a lease, does its provider call
// (which for a stream lasts until the last chunk) and releases it with the failure, if any.
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  CircuitState,
  ConsecutiveBreaker,
  IsolatedCircuitError,
  bulkhead,
  circuitBreaker,
  handleWhen,
  type BulkheadPolicy,
  type CircuitBreakerPolicy,
} from "cockatiel";
import type { BreakerState } from "./types.ts";

export interface GuardOptions {
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /** Open → a single probe allowed after this long (wall clock: cockatiel reads Date.now). */
  halfOpenAfterMs: number;
  maxConcurrency: number;
  /** Callers that may wait for a slot; beyond that the guard refuses at once. */
  queueSize: number;
  /** Which released failures count against the breaker. */
  countsAsFailure: (e: Error) => boolean;
}

export interface Lease {
  /** Idempotent; pass the failure when the call failed. */
  release(error?: Error): void;
}

export type EnterResult = { ok: true; lease: Lease } | { ok: false; reason: "breaker_open" | "concurrency" | "cancelled" };

/** An abort whose AbortSignal is made on first read (see abort.ts). */
export interface LazySignal {
  readonly aborted: boolean;
  readonly signal: AbortSignal;
}

export class DeploymentGuard {
  private readonly breaker: CircuitBreakerPolicy;
  private readonly bulkhead: BulkheadPolicy;
  private openedAt: number | null = null;

  constructor(private readonly o: GuardOptions) {
    this.breaker = circuitBreaker(handleWhen(o.countsAsFailure), {
      halfOpenAfter: o.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(o.failureThreshold),
    });
    this.breaker.onBreak(() => {
      this.openedAt = Date.now();
    });
    this.breaker.onReset(() => {
      this.openedAt = null;
    });
    this.bulkhead = bulkhead(o.maxConcurrency, o.queueSize);
  }

  /**
   * `abort` may be a LazySignal: its AbortSignal is read only when this caller may have to wait for a
   * slot (or is aborted already). With a free slot cockatiel runs the call at once and only checks
   * `aborted`, so the signal is not needed, and not made.
   */
  enter(abort?: AbortSignal | LazySignal): Promise<EnterResult> {
    // cockatiel makes callers wait for a half-open probe; a gateway would rather try the next candidate.
    if (this.breaker.state === CircuitState.HalfOpen) return Promise.resolve({ ok: false, reason: "breaker_open" });
    const signal = abort === undefined || (!abort.aborted && this.bulkhead.executionSlots > 0) ? undefined : "signal" in abort ? abort.signal : abort;
    return new Promise<EnterResult>((resolve) => {
      let leased = false;
      const work = () =>
        new Promise<void>((done, fail) => {
          leased = true;
          let released = false;
          resolve({
            ok: true,
            lease: {
              release(error?: Error) {
                if (released) return;
                released = true;
                if (error === undefined) done();
                else fail(error);
              },
            },
          });
        });
      this.breaker
        .execute(() => this.bulkhead.execute(work, signal), signal)
        .catch((e: unknown) => {
          if (leased) return; // the lease holder's own failure, already known to it
          if (e instanceof BrokenCircuitError || e instanceof IsolatedCircuitError) resolve({ ok: false, reason: "breaker_open" });
          else if (e instanceof BulkheadRejectedError) resolve({ ok: false, reason: "concurrency" });
          else resolve({ ok: false, reason: "cancelled" });
        });
    });
  }

  state(): BreakerState {
    const s = this.breaker.state;
    if (s === CircuitState.Closed) return "closed";
    if (s === CircuitState.HalfOpen) return "half_open";
    // Open: the next call is let through as the probe once the wait is over.
    if (s === CircuitState.Open && this.openedAt !== null && Date.now() - this.openedAt >= this.o.halfOpenAfterMs) return "half_open";
    return "open";
  }

  inFlight(): number {
    return this.o.maxConcurrency - this.bulkhead.executionSlots;
  }
}
