import { describe, expect, it } from "vitest";
import { DeploymentGuard, type LazySignal } from "./guard.ts";

const guard = (maxConcurrency: number, queueSize: number) =>
  new DeploymentGuard({ failureThreshold: 5, halfOpenAfterMs: 1_000, maxConcurrency, queueSize, countsAsFailure: () => true });

/** A LazySignal that counts how often its AbortSignal is read. */
function lazy(ctl = new AbortController()): LazySignal & { reads: number; ctl: AbortController } {
  return {
    reads: 0,
    ctl,
    get aborted() {
      return ctl.signal.aborted;
    },
    get signal() {
      this.reads++;
      return ctl.signal;
    },
  };
}

describe("DeploymentGuard.enter with a lazy signal", () => {
  it("does not read the signal when a slot is free", async () => {
    const g = guard(1, 1);
    const s = lazy();
    const entered = await g.enter(s);
    expect(entered.ok).toBe(true);
    expect(s.reads).toBe(0);
    if (entered.ok) entered.lease.release();
  });

  it("a caller that has to wait reads it, and is cancelled by it when its turn comes", async () => {
    const g = guard(1, 1);
    const first = await g.enter(lazy());
    const s = lazy();
    const waiting = g.enter(s);
    expect(s.reads).toBe(1);
    s.ctl.abort();
    if (first.ok) first.lease.release();
    expect(await waiting).toEqual({ ok: false, reason: "cancelled" });
  });

  it("an aborted caller is cancelled even with a free slot", async () => {
    const g = guard(1, 1);
    const s = lazy();
    s.ctl.abort();
    expect(await g.enter(s)).toEqual({ ok: false, reason: "cancelled" });
    expect(g.inFlight()).toBe(0);
  });

  it("still takes a plain AbortSignal", async () => {
    const g = guard(1, 0);
    const first = await g.enter(new AbortController().signal);
    expect(first.ok).toBe(true);
    expect(await g.enter(new AbortController().signal)).toEqual({ ok: false, reason: "concurrency" });
    if (first.ok) first.lease.release();
  });
});
