import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { attemptAbort } from "./abort.ts";

beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

describe("attemptAbort", () => {
  it("fires the attempt timeout when it comes before the deadline", () => {
    const a = attemptAbort(undefined, 1_000, 300, Date.now);
    vi.advanceTimersByTime(299);
    expect(a.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(a.cause()).toBe("attempt_timeout");
    expect(a.signal.aborted).toBe(true);
    expect((a.signal.reason as Error).message).toBe("attempt_timeout");
    a.dispose();
  });

  it("fires the deadline when it comes first, and on a tie", () => {
    const a = attemptAbort(undefined, 200, 300, Date.now);
    const b = attemptAbort(undefined, 300, 300, Date.now);
    vi.advanceTimersByTime(200);
    expect(a.cause()).toBe("deadline");
    vi.advanceTimersByTime(100);
    expect(b.cause()).toBe("deadline");
    a.dispose();
    b.dispose();
  });

  it("after stopAttemptTimer only the deadline applies", () => {
    const a = attemptAbort(undefined, 1_000, 300, Date.now);
    vi.advanceTimersByTime(100);
    a.stopAttemptTimer();
    vi.advanceTimersByTime(800);
    expect(a.cause()).toBeNull();
    vi.advanceTimersByTime(100);
    expect(a.cause()).toBe("deadline");
    a.stopAttemptTimer();
    a.dispose();
  });

  it("a deadline already past fires at once", () => {
    vi.setSystemTime(5_000);
    const a = attemptAbort(undefined, 1_000, 300, Date.now);
    vi.advanceTimersByTime(0);
    expect(a.cause()).toBe("deadline");
    a.dispose();
  });

  it("follows the client, and keeps the first cause", () => {
    const parent = new AbortController();
    const a = attemptAbort(parent.signal, 1_000, 300, Date.now);
    parent.abort();
    expect(a.cause()).toBe("client");
    vi.advanceTimersByTime(2_000);
    expect(a.cause()).toBe("client");
    a.dispose();
    const gone = attemptAbort(parent.signal, 1_000, 300, Date.now);
    expect(gone.cause()).toBe("client");
    gone.dispose();
  });

  it("abort() is the caller's; dispose stops the timer and lets go of the client's signal", () => {
    const parent = new AbortController();
    const a = attemptAbort(parent.signal, 1_000, 300, Date.now);
    a.abort();
    expect(a.cause()).toBe("client");
    const b = attemptAbort(parent.signal, 1_000, 300, Date.now);
    b.dispose();
    expect(vi.getTimerCount()).toBe(1); // a's, until it is disposed
    a.dispose();
    expect(vi.getTimerCount()).toBe(0);
    parent.abort();
    expect(b.cause()).toBeNull();
  });
});
