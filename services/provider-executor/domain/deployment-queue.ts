// The bounded live queue of one deployment (config models.<id>.queue, docs/live-queue.md): at most
// maxConcurrency calls hold a slot; up to maxQueue more wait in FIFO order for at most maxWaitMs; one
// over that bound is refused at once, one that waits too long is refused then, each with a Retry-After
// estimate. With micro-batching, waiters are released together as one wave (size or age flush), so a
// self-hosted server's continuous batching admits them in one step; each is still its own ordinary call.
// No metrics or errors here: the caller observes through QueueObserver and maps refusals.

export interface DeploymentQueueOptions {
  maxConcurrency: number;
  maxQueue: number;
  /** Longest wait for a slot; undefined = until the caller's signal aborts. */
  maxWaitMs?: number;
  batch?: { maxSize: number; maxAgeMs: number };
  /** Milliseconds clock (Date.now; vitest's fake timers move it with setTimeout). */
  now?: () => number;
  observer?: QueueObserver;
}

export type QueueRefusal = "queue_full" | "wait_timeout";

export interface QueueObserver {
  /** A waiter got its slot (waitedMs 0 when one was free at once). */
  admitted(waitedMs: number): void;
  refused(reason: QueueRefusal, waitedMs: number): void;
  /** A micro-batch wave went out: why, and how many it released. */
  flushed(trigger: "size" | "age", size: number): void;
}

export interface Slot {
  /** Idempotent. */
  release(): void;
}

export type AcquireResult =
  | { ok: true; slot: Slot; waitedMs: number }
  | { ok: false; reason: QueueRefusal | "cancelled"; waitedMs: number; retryAfterSec: number };

interface Waiter {
  enqueuedAt: number;
  settle(r: AcquireResult): void;
}

/** Retry-After never promises less than a second or asks for more than a minute. */
const MAX_RETRY_AFTER_SEC = 60;
/** Weight of the newest slot hold time in the moving average behind Retry-After. */
const EWMA_ALPHA = 0.2;

export class DeploymentQueue {
  private readonly waiters: Waiter[] = [];
  private held = 0;
  private ageTimer: NodeJS.Timeout | undefined;
  private ageTimerAt = 0;
  /** Moving average of how long a slot is held (ms); null until the first release. */
  private holdMs: number | null = null;
  private readonly now: () => number;

  constructor(private readonly o: DeploymentQueueOptions) {
    this.now = o.now ?? Date.now;
  }

  depth(): number {
    return this.waiters.length;
  }

  inFlight(): number {
    return this.held;
  }

  /** Waits for a slot, or says why not. Never rejects. */
  acquire(signal?: AbortSignal): Promise<AcquireResult> {
    if (signal?.aborted) return Promise.resolve(this.refusal("cancelled", 0));
    // Without batching a free slot is taken at once, unless someone is already waiting (FIFO).
    if (!this.o.batch && this.held < this.o.maxConcurrency && this.waiters.length === 0) {
      this.o.observer?.admitted(0);
      return Promise.resolve({ ok: true, slot: this.grant(), waitedMs: 0 });
    }
    if (this.waiters.length >= this.o.maxQueue) {
      this.o.observer?.refused("queue_full", 0);
      return Promise.resolve(this.refusal("queue_full", 0));
    }
    return new Promise<AcquireResult>((resolve) => {
      const enqueuedAt = this.now();
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => leave("cancelled");
      const waiter: Waiter = {
        enqueuedAt,
        settle: (r) => {
          if (timer !== undefined) clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          resolve(r);
        },
      };
      const leave = (reason: QueueRefusal | "cancelled") => {
        const i = this.waiters.indexOf(waiter);
        if (i < 0) return; // already granted
        this.waiters.splice(i, 1);
        const waited = this.now() - enqueuedAt;
        if (reason !== "cancelled") this.o.observer?.refused(reason, waited);
        waiter.settle(this.refusal(reason, waited));
        this.pump(); // the head may have changed: its age decides the next wave
      };
      if (this.o.maxWaitMs !== undefined) timer = setTimeout(() => leave("wait_timeout"), this.o.maxWaitMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
      this.pump();
    });
  }

  /** Releases waiters while slots are free: one by one, or in waves when batching. */
  private pump(): void {
    const b = this.o.batch;
    for (;;) {
      const free = this.o.maxConcurrency - this.held;
      const head = this.waiters[0];
      if (free <= 0 || !head) break;
      if (!b) {
        this.admit(1);
        continue;
      }
      if (this.waiters.length >= b.maxSize && free >= b.maxSize) {
        this.o.observer?.flushed("size", b.maxSize);
        this.admit(b.maxSize);
      } else if (this.now() - head.enqueuedAt >= b.maxAgeMs) {
        const n = Math.min(free, this.waiters.length, b.maxSize);
        this.o.observer?.flushed("age", n);
        this.admit(n);
      } else break;
    }
    if (b) this.armAgeTimer(b.maxAgeMs);
  }

  private admit(n: number): void {
    const t = this.now();
    for (const w of this.waiters.splice(0, n)) {
      const waited = t - w.enqueuedAt;
      this.o.observer?.admitted(waited);
      w.settle({ ok: true, slot: this.grant(), waitedMs: waited });
    }
  }

  /** One timer, due when the current head reaches max_age_ms; none while every slot is held (a release pumps). */
  private armAgeTimer(maxAgeMs: number): void {
    const head = this.waiters[0];
    if (!head || this.held >= this.o.maxConcurrency) {
      if (this.ageTimer !== undefined) clearTimeout(this.ageTimer);
      this.ageTimer = undefined;
      return;
    }
    const due = head.enqueuedAt + maxAgeMs;
    if (this.ageTimer !== undefined && this.ageTimerAt === due) return;
    if (this.ageTimer !== undefined) clearTimeout(this.ageTimer);
    this.ageTimerAt = due;
    this.ageTimer = setTimeout(
      () => {
        this.ageTimer = undefined;
        this.pump();
      },
      Math.max(0, due - this.now()),
    );
  }

  private grant(): Slot {
    this.held++;
    const since = this.now();
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.held--;
        const ms = this.now() - since;
        this.holdMs = this.holdMs === null ? ms : this.holdMs + EWMA_ALPHA * (ms - this.holdMs);
        this.pump();
      },
    };
  }

  /** When a slot is likely free for one more: the waiters ahead, drained at the average hold time. */
  retryAfterSec(): number {
    if (this.holdMs === null) return 1;
    const ms = (this.holdMs * (this.waiters.length + 1)) / this.o.maxConcurrency;
    return Math.min(MAX_RETRY_AFTER_SEC, Math.max(1, Math.ceil(ms / 1000)));
  }

  private refusal(reason: QueueRefusal | "cancelled", waitedMs: number): AcquireResult {
    return { ok: false, reason, waitedMs, retryAfterSec: this.retryAfterSec() };
  }
}
