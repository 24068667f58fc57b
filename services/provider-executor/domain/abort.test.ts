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

describe("attemptAbort's emitter and lazy signal", () => {
  it("emits abort once with the cause as reason, and makes no AbortSignal until one is read", () => {
    const a = attemptAbort(undefined, 1_000, 300, Date.now);
    const heard: unknown[] = [];
    a.emitter.addListener("abort", () => heard.push(a.emitter.reason));
    expect(a.aborted).toBe(false);
    expect(a.emitter.aborted).toBe(false);
    vi.advanceTimersByTime(300);
    expect(a.aborted).toBe(true);
    expect(heard.map((e) => (e as Error).message)).toEqual(["attempt_timeout"]);
    // Read after the fact, the signal is already aborted, with the same reason.
    expect(a.signal.aborted).toBe(true);
    expect(a.signal.reason).toBe(a.emitter.reason);
    a.abort();
    expect(heard).toHaveLength(1);
    expect(a.emitter.listenerCount("abort")).toBe(0);
    a.dispose();
  });

  it("a signal read before the abort fires with it", () => {
    const parent = new AbortController();
    const a = attemptAbort(parent.signal, 1_000, 300, Date.now);
    const signal = a.signal;
    let heard = 0;
    a.emitter.once("abort", () => heard++);
    parent.abort();
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).message).toBe("client");
    expect(heard).toBe(1);
    a.dispose();
  });

  it("undici's request() takes the emitter as its signal and stops when it fires", async () => {
    vi.useRealTimers();
    const { createServer } = await import("node:http");
    const { Client } = await import("undici");
    // A server that never answers: only the abort ends the request.
    const server = createServer(() => undefined);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as { port: number };
    const client = new Client(`http://127.0.0.1:${port}`);
    const a = attemptAbort(undefined, Date.now() + 10_000, 50, Date.now);
    try {
      const err = await client.request({ path: "/", method: "GET", signal: a.emitter }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(a.cause()).toBe("attempt_timeout");
      expect((err as Error).message).toBe("attempt_timeout");
    } finally {
      a.dispose();
      await client.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
