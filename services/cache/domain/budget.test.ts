import { describe, expect, it } from "vitest";
import { Deadline, withDeadline } from "./budget.ts";

describe("withDeadline", () => {
  it("returns the value, maps errors, and times out a hung call", async () => {
    const d = new Deadline(30);
    expect(await withDeadline(d, async () => 1)).toEqual({ ok: true, value: 1 });
    const err = await withDeadline(d, async () => {
      throw new Error("boom");
    });
    expect(err).toMatchObject({ ok: false, kind: "error" });
    expect(await withDeadline(d, () => new Promise<never>(() => undefined))).toEqual({ ok: false, kind: "timeout" });
    expect(d.remainingMs()).toBeLessThan(5); // the hung call used up (about) the whole budget
    // An exhausted budget refuses the next call without running it.
    let ran = false;
    expect(await withDeadline(new Deadline(0), async () => (ran = true))).toEqual({ ok: false, kind: "timeout" });
    expect(ran).toBe(false);
  });

  it("charges only time spent inside store calls", () => {
    let t = 0;
    const d = new Deadline(20, () => t);
    const stop = d.start();
    t += 5;
    stop();
    t += 1000; // CPU work between calls
    expect(d.remainingMs()).toBe(15);
  });
});
