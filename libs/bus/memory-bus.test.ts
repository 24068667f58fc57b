import { describe, expect, it } from "vitest";
import type { BusMessage } from "./event-bus.ts";
import { MemoryEventBus } from "./memory-bus.ts";
import { subjectMatches } from "./subjects.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function collector() {
  const got: string[] = [];
  let wake: () => void = () => {};
  return {
    got,
    until: (n: number) => new Promise<void>((r) => { wake = () => got.length >= n && r(); wake(); }),
    push: (s: string) => { got.push(s); wake(); },
  };
}

describe("subjectMatches", () => {
  it.each([
    ["a.>", "a.b.c", true], ["a.>", "a", false], ["a.*.c", "a.b.c", true], ["a.*", "a.b.c", false], ["a.b", "a.b", true], ["a.b", "a.c", false],
  ])("%s ~ %s = %s", (f, s, want) => expect(subjectMatches(f, s)).toBe(want));

  it("agrees with token-splitting matching on every filter and subject built from a small alphabet", () => {
    const bySplit = (filter: string, subject: string): boolean => {
      const f = filter.split(".");
      const s = subject.split(".");
      for (let i = 0; i < f.length; i++) {
        if (f[i] === ">") return s.length > i;
        if (i >= s.length) return false;
        if (f[i] !== "*" && f[i] !== s[i]) return false;
      }
      return f.length === s.length;
    };
    const tokens = ["a", "b", "ab", "", "*", ">"];
    const subjectsOf = (n: number): string[] => (n === 0 ? [""] : subjectsOf(n - 1).flatMap((p) => tokens.map((t) => (p === "" && n === 1 ? t : `${p}.${t}`))));
    const all = [...subjectsOf(1), ...subjectsOf(2), ...subjectsOf(3)];
    let checked = 0;
    for (const f of all) for (const s of all) {
      expect(subjectMatches(f, s), `${f} ~ ${s}`).toBe(bySplit(f, s));
      checked++;
    }
    expect(checked).toBeGreaterThan(10_000);
  });
});

describe("MemoryEventBus", () => {
  it("dedups by msgId, filters, redelivers nak'd and unsettled messages, drops terminated ones", async () => {
    const bus = new MemoryEventBus();
    const c = collector();
    let firstTry = true;
    const sub = await bus.subscribe({ durable: "d", filterSubject: "x.>", maxWaitMs: 1 }, async (msgs: BusMessage[]) => {
      for (const m of msgs) {
        const s = dec(m.data);
        if (s === "poison") { m.term(); continue; }
        if (s === "flaky" && firstTry) { firstTry = false; m.nak(5); continue; }
        if (s === "forgotten" && m.deliveryCount === 1) continue; // neither acked nor nak'd
        c.push(`${s}#${m.deliveryCount}`);
        m.ack();
      }
    });
    await bus.publish("x.a", enc("one"), "1");
    await bus.publish("x.a", enc("one-again"), "1"); // same msgId: dropped
    await bus.publish("y.a", enc("other"), "2"); // not matching
    await bus.publish("x.b", enc("poison"), "3");
    await bus.publish("x.b", enc("flaky"), "4");
    await bus.publish("x.b", enc("forgotten"), "5");
    await c.until(3);
    await sub.stop();
    expect(c.got.sort()).toEqual(["flaky#2", "forgotten#2", "one#1"]);
    await bus.close();
  });

  it("retains only the last `retain` messages, oldest first, for a late durable", async () => {
    const bus = new MemoryEventBus({ retain: 3 });
    for (const x of ["1", "2", "3", "4", "5"]) await bus.publish("x.r", enc(x), `r${x}`);
    const c = collector();
    const sub = await bus.subscribe({ durable: "late-ring", filterSubject: "x.r" }, async (msgs) => {
      for (const m of msgs) { c.push(dec(m.data)); m.ack(); }
    });
    await c.until(3);
    await sub.stop();
    expect(c.got).toEqual(["3", "4", "5"]);
    await bus.close();
  });

  it("a durable created later gets retained messages", async () => {
    const bus = new MemoryEventBus();
    await bus.publish("x.a", enc("early"), "e");
    const c = collector();
    const sub = await bus.subscribe({ durable: "late", filterSubject: "x.a" }, async (msgs) => {
      for (const m of msgs) { c.push(dec(m.data)); m.ack(); }
    });
    await c.until(1);
    await sub.stop();
    expect(c.got).toEqual(["early"]);
  });
  it("flush() resolves once consumers have settled what was published, and reports a consumer that does not", async () => {
    const bus = new MemoryEventBus();
    const acked: string[] = [];
    let stall = false;
    const sub = await bus.subscribe({ durable: "slow", filterSubject: "x.>", maxWaitMs: 1 }, async (msgs: BusMessage[]) => {
      // A ledger-like consumer: each batch takes a while to commit before it is acked.
      await new Promise((r) => setTimeout(r, 30));
      for (const m of msgs) {
        if (stall) continue;
        acked.push(dec(m.data));
        m.ack();
      }
    });
    for (let i = 0; i < 5; i++) await bus.publish("x.y", enc(`m${i}`), `id-${i}`);
    expect(acked).toEqual([]);
    expect(await bus.flush(2_000)).toBe(true);
    expect(acked).toEqual(["m0", "m1", "m2", "m3", "m4"]);
    stall = true;
    await bus.publish("x.y", enc("stuck"), "id-stuck");
    expect(await bus.flush(100)).toBe(false);
    await sub.stop();
    // A stopped consumer is not waited for (its messages wait for its next start).
    expect(await bus.flush(100)).toBe(true);
    await bus.close();
  });

  it("forgets message ids oldest first, past the dedup window or over maxSeen, and stays fast past 100,000 ids", async () => {
    const bus = new MemoryEventBus({ duplicateWindowMs: 60_000, maxSeen: 1_000 });
    for (let i = 0; i < 1_500; i++) await bus.publish("x.s", enc("."), `s${i}`);
    expect(bus.seenCount).toBe(1_000);
    // The newest 1,000 are still deduplicated, the oldest were forgotten.
    const c = collector();
    const sub = await bus.subscribe({ durable: "seen", filterSubject: "x.s" }, async (msgs) => {
      for (const m of msgs) { c.push(dec(m.data)); m.ack(); }
    });
    await bus.publish("x.s", enc("dup"), "s1499");
    await bus.publish("x.s", enc("again"), "s0");
    await c.until(1);
    await sub.stop();
    expect(c.got.filter((x) => x !== ".")).toEqual(["again"]);
    await bus.close();

    // Default bound (100,000) with every id inside the 120 s window: the old prune scanned the whole map on
    // every publish past 100,000 ids (~2 ms each: 50,000 more took ~100 s); now each publish is O(1).
    const big = new MemoryEventBus({ retain: 0 });
    const t0 = performance.now();
    for (let i = 0; i < 150_000; i++) await big.publish("x.b", enc("."), `b${i}`);
    expect(big.seenCount).toBe(100_000);
    expect(performance.now() - t0).toBeLessThan(15_000);
    await big.close();
  }, 30_000);

  it("an id published again is kept from its latest time: its older entry forgets nothing", async () => {
    const bus = new MemoryEventBus({ duplicateWindowMs: 60_000, maxSeen: 3 });
    await bus.publish("x.r", enc("."), "a");
    await bus.publish("x.r", enc("."), "b");
    await bus.publish("x.r", enc("."), "a"); // a duplicate: dropped, "a" stays remembered
    await bus.publish("x.r", enc("."), "c");
    expect(bus.seenCount).toBe(3);
    await bus.publish("x.r", enc("."), "d"); // over maxSeen: the oldest, "a", goes
    expect(bus.seenCount).toBe(3);
    const c = collector();
    const sub = await bus.subscribe({ durable: "r", filterSubject: "x.r" }, async (msgs) => {
      for (const m of msgs) { c.push(dec(m.data)); m.ack(); }
    });
    await bus.publish("x.r", enc("d again"), "d");
    await bus.publish("x.r", enc("a again"), "a");
    await c.until(1);
    await sub.stop();
    expect(c.got.filter((x) => x !== ".")).toEqual(["a again"]);
    await bus.close();
  });
});
