import { afterEach, describe, expect, it, vi } from "vitest";
import { Batcher } from "./batcher.ts";

/** A batcher whose flush of a batch starting with 0 hangs until `open()`; `started` lists the flushes begun. */
function slowFirst(opts: { max: number; mode: "serial" | "independent" }): { b: Batcher<number>; started: number[][]; open: () => void } {
  let open = (): void => {};
  const gate = new Promise<void>((r) => (open = r));
  const started: number[][] = [];
  const b = new Batcher<number>(
    async (xs) => {
      started.push(xs);
      if (xs[0] === 0) await gate;
    },
    { ...opts, waitMs: 10_000 },
  );
  return { b, started, open };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("Batcher, serial", () => {
  it("flushes full batches in order and the rest on flush()", async () => {
    const batches: number[][] = [];
    const b = new Batcher<number>(async (xs) => void batches.push(xs), { max: 3, waitMs: 10_000, mode: "serial" });
    for (let i = 0; i < 7; i++) await b.push(i);
    await b.flush();
    expect(batches).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
  });

  it("runs one flush at a time: the next batch waits for the slow one", async () => {
    const { b, started, open } = slowFirst({ max: 1, mode: "serial" });
    const first = b.push(0);
    const second = b.push(1);
    await new Promise((r) => setTimeout(r, 10));
    expect(started).toEqual([[0]]);
    open();
    await Promise.all([first, second]);
    expect(started).toEqual([[0], [1]]);
  });

  it("passes a failed flush to onError and goes on", async () => {
    const errors: unknown[] = [];
    const seen: number[][] = [];
    const b = new Batcher<number>(
      async (xs) => {
        seen.push(xs);
        if (xs[0] === 0) throw new Error("boom");
      },
      { max: 1, waitMs: 10_000, mode: "serial", onError: (e) => errors.push(e) },
    );
    await b.push(0);
    await b.push(1);
    expect(seen).toEqual([[0], [1]]);
    expect(errors).toHaveLength(1);
  });
});

describe("Batcher, independent", () => {
  it("sends what arrived within the window as one batch", async () => {
    vi.useFakeTimers();
    const batches: number[][] = [];
    const b = new Batcher<number>(async (xs) => void batches.push(xs), { max: 10, waitMs: 5, mode: "independent" });
    void b.push(1);
    void b.push(2);
    expect(b.size).toBe(2);
    expect(batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(5);
    expect(batches).toEqual([[1, 2]]);
    expect(b.size).toBe(0);
  });

  it("does not hold a batch back behind a slow one", async () => {
    const { b, started, open } = slowFirst({ max: 2, mode: "independent" });
    void b.push(0);
    void b.push(1);
    void b.push(2);
    await b.push(3);
    expect(started).toEqual([[0, 1], [2, 3]]);
    open();
  });

  it("with no window sends each item at once, synchronously", () => {
    const batches: number[][] = [];
    const b = new Batcher<number>(async (xs) => void batches.push(xs), { max: 10, waitMs: 0, mode: "independent" });
    void b.push(1);
    expect(batches).toEqual([[1]]);
  });

  it("discard drops what waits and its timer", async () => {
    vi.useFakeTimers();
    const batches: number[][] = [];
    const b = new Batcher<number>(async (xs) => void batches.push(xs), { max: 10, waitMs: 5, mode: "independent" });
    void b.push(1);
    b.discard();
    await vi.advanceTimersByTimeAsync(50);
    expect(batches).toEqual([]);
    expect(b.size).toBe(0);
  });

  it("a rejected flush goes to onError, not to an unhandled rejection", async () => {
    const errors: unknown[] = [];
    const b = new Batcher<number>(async () => Promise.reject(new Error("x")), { max: 1, waitMs: 5, mode: "independent", onError: (e) => errors.push(e) });
    await b.push(1);
    expect(errors).toHaveLength(1);
  });
});
