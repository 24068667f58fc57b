// The live queue on fake timers: the bound, FIFO order, the wait timeout, cancellation, micro-batch
// waves by size and by age, Retry-After, and the metrics it feeds.
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DeploymentQueue, type AcquireResult, type DeploymentQueueOptions, type QueueObserver } from "./deployment-queue.ts";
import { QueueMetrics } from "./queue-metrics.ts";

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

interface Probe {
  result: AcquireResult | undefined;
}

/** Starts an acquire and keeps its result once it settles (read after flushing microtasks). */
function start(q: DeploymentQueue, signal?: AbortSignal): Probe {
  const p: Probe = { result: undefined };
  void q.acquire(signal).then((r) => (p.result = r));
  return p;
}

const settle = () => vi.advanceTimersByTimeAsync(0);

function recorder(): { observer: QueueObserver; events: string[] } {
  const events: string[] = [];
  return {
    events,
    observer: {
      admitted: (ms) => events.push(`admitted:${ms}`),
      refused: (r, ms) => events.push(`refused:${r}:${ms}`),
      flushed: (t, n) => events.push(`flushed:${t}:${n}`),
    },
  };
}

function queue(o: Partial<DeploymentQueueOptions> = {}): DeploymentQueue {
  return new DeploymentQueue({ maxConcurrency: 2, maxQueue: 3, ...o });
}

function release(p: Probe): void {
  if (!p.result?.ok) throw new Error("not admitted");
  p.result.slot.release();
}

describe("DeploymentQueue", () => {
  it("holds its bound: max_concurrency running, max_queue waiting, the rest refused at once", async () => {
    const q = queue();
    const ps = Array.from({ length: 7 }, () => start(q));
    await settle();
    expect(ps.map((p) => (p.result === undefined ? "waiting" : p.result.ok ? "ok" : p.result.reason))).toEqual(["ok", "ok", "waiting", "waiting", "waiting", "queue_full", "queue_full"]);
    expect(q.inFlight()).toBe(2);
    expect(q.depth()).toBe(3);
    // A release admits exactly one waiter; in-flight never passes the limit.
    release(ps[0]!);
    await settle();
    expect(ps[2]!.result?.ok).toBe(true);
    expect(q.inFlight()).toBe(2);
    expect(q.depth()).toBe(2);
  });

  it("admits waiters in arrival order, and a newcomer does not jump them when a slot frees", async () => {
    const q = queue({ maxConcurrency: 1, maxQueue: 10 });
    const order: string[] = [];
    const slots: { release(): void }[] = [];
    const take = (name: string) =>
      void q.acquire().then((r) => {
        if (!r.ok) throw new Error(r.reason);
        order.push(name);
        slots.push(r.slot);
      });
    take("first");
    take("a");
    take("b");
    take("c");
    await settle();
    expect(order).toEqual(["first"]);
    slots[0]!.release();
    take("late"); // arrives the moment a slot frees: still behind b and c
    await settle();
    for (let i = 1; i <= 3; i++) {
      slots[i]!.release();
      await settle();
    }
    expect(order).toEqual(["first", "a", "b", "c", "late"]);
  });

  it("refuses a waiter after max_wait_ms, with how long it waited and a Retry-After", async () => {
    const { observer, events } = recorder();
    const q = queue({ maxConcurrency: 1, maxWaitMs: 100, observer });
    const holder = start(q);
    const waiter = start(q);
    await vi.advanceTimersByTimeAsync(99);
    expect(waiter.result).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(waiter.result).toEqual({ ok: false, reason: "wait_timeout", waitedMs: 100, retryAfterSec: 1 });
    expect(q.depth()).toBe(0);
    expect(events).toEqual(["admitted:0", "refused:wait_timeout:100"]);
    release(holder);
    expect(q.inFlight()).toBe(0);
  });

  it("drops a waiter whose caller went away, without counting a refusal", async () => {
    const { observer, events } = recorder();
    const q = queue({ maxConcurrency: 1, observer });
    start(q);
    const ac = new AbortController();
    const gone = start(q, ac.signal);
    const next = start(q);
    await settle();
    ac.abort();
    await settle();
    expect(gone.result).toMatchObject({ ok: false, reason: "cancelled" });
    expect(q.depth()).toBe(1);
    expect(events).toEqual(["admitted:0"]);
    expect(next.result).toBeUndefined();
  });

  it("estimates Retry-After from the average slot hold time and the waiters ahead", async () => {
    const q = queue({ maxConcurrency: 2, maxQueue: 3 });
    const a = start(q);
    const b = start(q);
    await settle();
    await vi.advanceTimersByTimeAsync(2_000);
    release(a);
    release(b);
    // Average hold 2 s; with 2 slots held and 3 waiting, a 4th in line is ~ 2 s × 4 / 2 = 4 s away.
    const held = [start(q), start(q)];
    const waiting = [start(q), start(q), start(q)];
    const over = start(q);
    await settle();
    expect(held.every((p) => p.result?.ok)).toBe(true);
    expect(waiting.every((p) => p.result === undefined)).toBe(true);
    expect(over.result).toMatchObject({ ok: false, reason: "queue_full", retryAfterSec: 4 });
  });
});

describe("DeploymentQueue micro-batching", () => {
  it("releases a wave when max_size requests wait, not one by one as they arrive", async () => {
    const { observer, events } = recorder();
    const q = queue({ maxConcurrency: 4, maxQueue: 8, batch: { maxSize: 4, maxAgeMs: 300 }, observer });
    const ps = [start(q), start(q), start(q)];
    await vi.advanceTimersByTimeAsync(50);
    // Slots are free, but the wave is not full and not old: nobody goes yet.
    expect(ps.every((p) => p.result === undefined)).toBe(true);
    ps.push(start(q));
    await settle();
    expect(ps.every((p) => p.result?.ok)).toBe(true);
    expect(ps.map((p) => (p.result?.ok ? p.result.waitedMs : -1))).toEqual([50, 50, 50, 0]);
    expect(events.filter((e) => e.startsWith("flushed"))).toEqual(["flushed:size:4"]);
    expect(q.inFlight()).toBe(4);
  });

  it("releases what waits once the oldest has waited max_age_ms", async () => {
    const { observer, events } = recorder();
    const q = queue({ maxConcurrency: 4, maxQueue: 8, batch: { maxSize: 4, maxAgeMs: 300 }, observer });
    const a = start(q);
    await vi.advanceTimersByTimeAsync(100);
    const b = start(q);
    await vi.advanceTimersByTimeAsync(199);
    expect(a.result).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(a.result).toMatchObject({ ok: true, waitedMs: 300 });
    expect(b.result).toMatchObject({ ok: true, waitedMs: 200 });
    expect(events.filter((e) => e.startsWith("flushed"))).toEqual(["flushed:age:2"]);
  });

  it("an age flush releases only as many as there are free slots; the rest follow as slots free", async () => {
    const q = queue({ maxConcurrency: 2, maxQueue: 6, batch: { maxSize: 2, maxAgeMs: 300 } });
    const ps = [start(q), start(q), start(q)];
    await settle();
    // A size wave of 2 goes at once; the third waits for its age and a free slot.
    expect(ps.map((p) => p.result?.ok ?? "waiting")).toEqual([true, true, "waiting"]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(ps[2]!.result).toBeUndefined();
    expect(q.inFlight()).toBe(2);
    release(ps[0]!);
    await settle();
    expect(ps[2]!.result).toMatchObject({ ok: true, waitedMs: 1_000 });
    expect(q.inFlight()).toBe(2);
  });
});

describe("QueueMetrics", () => {
  it("exposes depth, bounds, waits, refusals and waves on the registry", async () => {
    const registry = new Registry();
    const queues = new Map<string, DeploymentQueue>();
    const metrics = new QueueMetrics(registry, () => queues, () => ({ concurrency: 1, queue: 1 }));
    const q = new DeploymentQueue({ maxConcurrency: 1, maxQueue: 1, maxWaitMs: 50, observer: metrics.observer("small-8k") });
    queues.set("small-8k", q);
    start(q);
    start(q);
    start(q); // over the bound
    await settle();
    let text = await registry.metrics();
    expect(text).toContain('llmgw_executor_queue_depth{model="small-8k"} 1');
    expect(text).toContain('llmgw_executor_queue_limit{model="small-8k",bound="concurrency"} 1');
    expect(text).toContain('llmgw_executor_queue_rejections_total{model="small-8k",reason="queue_full"} 1');
    await vi.advanceTimersByTimeAsync(50);
    text = await registry.metrics();
    expect(text).toContain('llmgw_executor_queue_rejections_total{model="small-8k",reason="wait_timeout"} 1');
    expect(text).toContain('llmgw_executor_queue_wait_seconds_count{model="small-8k",outcome="admitted"} 1');
    expect(text).toContain('llmgw_executor_queue_wait_seconds_count{model="small-8k",outcome="wait_timeout"} 1');
    expect(text).toContain('llmgw_executor_queue_depth{model="small-8k"} 0');
  });
});
