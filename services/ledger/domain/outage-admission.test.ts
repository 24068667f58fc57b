import { describe, expect, it } from "vitest";
import type { ScopeReservation } from "./budget.ts";
import { isRefusal, OutageAdmission } from "./outage-admission.ts";

const limited = (hardNano: number, softNano: number | null = null): ScopeReservation => ({ counterKey: "k:t:k:day:2026-11-30", hardNano, softNano, ttlSeconds: 60 });
const unlimited: ScopeReservation = { counterKey: "t:t:day:2026-11-30", hardNano: null, softNano: null, ttlSeconds: 60 };

describe("budget admission during a store outage", () => {
  it("closed refuses everything, open admits everything and journals it", () => {
    const closed = new OutageAdmission({ mode: "closed", minReplicas: 1 });
    expect(isRefusal(closed.admit("r1", [unlimited], 5))).toBe(true);
    const open = new OutageAdmission({ mode: "open", minReplicas: 1 });
    open.learn([limited(100)], [100]);
    for (let i = 0; i < 10; i++) expect(open.admit(`r${i}`, [limited(100)], 50)).toEqual({ admitted: true, state: "ok" });
    expect(open.journaled()).toBe(10);
  });

  it("local: a hard-limited scope this replica never saw is refused; an unlimited one is admitted", () => {
    const a = new OutageAdmission({ mode: "local", minReplicas: 1 });
    expect(isRefusal(a.admit("r1", [limited(100)], 1))).toBe(true);
    expect(a.admit("r2", [unlimited], 1_000_000)).toEqual({ admitted: true, state: "ok" });
  });

  it("local: admits within its share of what it last saw remaining, never past the hard limit", () => {
    const a = new OutageAdmission({ mode: "local", minReplicas: 1 });
    a.learn([limited(1_000, 800), unlimited], [400, 400]);
    let admitted = 0;
    for (let i = 0; i < 100; i++) {
      const v = a.admit(`r${i}`, [limited(1_000, 800), unlimited], 70);
      if (!isRefusal(v) && v.admitted) admitted++;
    }
    expect(admitted).toBe(8); // 400 + 8 x 70 = 960 <= 1000; a 9th would pass it
    expect(400 + admitted * 70).toBeLessThanOrEqual(1_000);
  });

  it("local with N replicas: each keeps to remaining / N (replicas learned from the heartbeat, floor from config)", () => {
    const replicas = [0, 1, 2].map(() => new OutageAdmission({ mode: "local", minReplicas: 2 }));
    for (const r of replicas) {
      r.learn([limited(1_000)], [100]);
      r.observed(3, new Map([[limited(1_000).counterKey, 100]]));
    }
    expect(replicas[0]?.replicas()).toBe(3);
    let total = 0;
    for (const r of replicas) {
      for (let i = 0; i < 50; i++) {
        const v = r.admit(`x${i}`, [limited(1_000)], 40);
        if (!isRefusal(v) && v.admitted) total += 40;
      }
    }
    expect(total).toBeLessThanOrEqual(900); // 3 x floor(900 / 3 / 40) x 40 = 840
    expect(total).toBe(840);
  });

  it("local: already past the hard limit by the last state is a 429 (not admitted), a spent share is a 503 (refusal)", () => {
    const a = new OutageAdmission({ mode: "local", minReplicas: 2 });
    a.learn([limited(1_000)], [990]);
    expect(a.admit("r1", [limited(1_000)], 20)).toMatchObject({ admitted: false, scope: limited(1_000).counterKey });
    const b = new OutageAdmission({ mode: "local", minReplicas: 2 });
    b.learn([limited(1_000)], [0]);
    expect(b.admit("r1", [limited(1_000)], 500)).toMatchObject({ admitted: true });
    expect(isRefusal(b.admit("r2", [limited(1_000)], 1))).toBe(true);
  });

  it("settling during the outage frees the share; pending() lists what to push and pushed() forgets it", () => {
    const a = new OutageAdmission({ mode: "local", minReplicas: 1 });
    a.learn([limited(100)], [0]);
    expect(a.admit("r1", [limited(100)], 100)).toMatchObject({ admitted: true });
    expect(a.admit("r2", [limited(100)], 10)).toMatchObject({ admitted: false }); // the limit, as far as it knows
    a.settle("r1", 30);
    expect(a.admit("r2", [limited(100)], 10)).toMatchObject({ admitted: true });
    a.settle("before-outage", 7);
    const p = a.pending();
    expect(p.entries.map((e) => [e.reservationId, e.actualNano])).toEqual([
      ["r1", 30],
      ["r2", undefined],
    ]);
    expect(p.settles).toEqual([["before-outage", 7]]);
    for (const e of p.entries) a.pushed(e);
    a.pushed({ reservationId: "before-outage" });
    expect(a.journaled()).toBe(0);
  });

  it("a refusal at the hard limit is learned as a lower bound: the outage does not reopen a budget the store just refused", () => {
    const a = new OutageAdmission({ mode: "local", minReplicas: 1 });
    a.learn([limited(1_000)], [100]); // seen long ago
    a.refused([limited(1_000)], limited(1_000).counterKey, 300); // the store: counter + 300 > 1000
    expect(a.admit("r1", [limited(1_000)], 300)).toMatchObject({ admitted: false }); // 701 + 300 > 1000
    expect(a.admit("r2", [limited(1_000)], 200)).toMatchObject({ admitted: true }); // at most 299 left: 200 fits
    expect(a.admit("r3", [limited(1_000)], 100)).toMatchObject({ admitted: false });
  });

  it("soft limit passed by the last state plus local spend: admitted with state soft", () => {
    const a = new OutageAdmission({ mode: "local", minReplicas: 1 });
    a.learn([limited(1_000, 500)], [450]);
    expect(a.admit("r1", [limited(1_000, 500)], 100)).toEqual({ admitted: true, state: "soft" });
  });
});

describe("outage admission memory bounds", () => {
  const hard = (counterKey: string): ScopeReservation => ({ counterKey, hardNano: 1_000, softNano: null, ttlSeconds: 60 });

  it("forgets the least recently learned counter past maxCounters, and stops watching it", () => {
    const a = new OutageAdmission({ mode: "local", minReplicas: 1, maxCounters: 2 });
    a.learn([hard("x")], [100]);
    a.learn([hard("y")], [100]);
    a.learn([hard("x")], [200]); // learned again: "y" is now the oldest
    a.learn([hard("z")], [100]);
    expect(a.watchedCounters()).toEqual(["x", "z"]);
    expect(isRefusal(a.admit("r1", [hard("y")], 1))).toBe(true); // unknown again
    expect(a.admit("r2", [hard("x")], 1)).toMatchObject({ admitted: true });
    a.observed(1, new Map([["x", 300]])); // a heartbeat refreshes "x": "z" goes next
    a.learn([hard("w")], [100]);
    expect(a.watchedCounters()).toEqual(["x", "w"]);
    expect(isRefusal(a.admit("r3", [hard("z")], 1))).toBe(true);
  });

  it("watches at most 10,000 limited counters, the most recently learned", () => {
    const a = new OutageAdmission({ mode: "local", minReplicas: 1 });
    for (let i = 0; i < 10_005; i++) a.learn([hard(`c${i}`)], [0]);
    const w = a.watchedCounters();
    expect(w).toHaveLength(10_000);
    expect(w[0]).toBe("c5");
    expect(w.at(-1)).toBe("c10004");
    expect(a.admit("r1", [hard("c0")], 1)).toMatchObject({ admitted: true }); // still known, just not watched
  });
});
