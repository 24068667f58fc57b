// The per-category switch pooled across replicas (SemanticEconomics with a store): decisions on every
// replica's lookups, a restart that starts from the pool, and each replica on its own while the pool is away.
import { describe, expect, it } from "vitest";
import type { EconomicsStore } from "../store/economics-store.ts";
import type { EconomicsSyncRequest, EconomicsSyncResult } from "./economics-pool.ts";
import { MemoryEconomicsStore } from "../store/memory-economics-store.ts";
import { economicsConfigSchema, SemanticEconomics } from "./economics.ts";

const cfg = (over: object = {}) => economicsConfigSchema.parse({ window: 100, minSamples: 60, breakEvenHitRate: 0.15, hysteresis: 0.2, probeShare: 0.1, syncMs: 1000, bucketSeconds: 60, horizonHours: 1, ...over });

class Clock {
  t = 1_800_000_000_000;
  now = (): number => this.t;
}

async function sync(e: SemanticEconomics, store: EconomicsStore): Promise<string[]> {
  const req = e.syncRequest();
  return e.syncApplied(req, await store.sync(req));
}

describe("SemanticEconomics pooled across replicas", () => {
  it("decides on every replica's lookups, and the others adopt the switch", async () => {
    const clock = new Clock();
    const store = new MemoryEconomicsStore();
    const changes: string[] = [];
    const a = new SemanticEconomics(cfg(), (x) => changes.push(`a:${x.semanticOn}`), { pooled: true, now: clock.now });
    const b = new SemanticEconomics(cfg(), (x) => changes.push(`b:${x.semanticOn}`), { pooled: true, now: clock.now });
    await sync(a, store);
    await sync(b, store);
    // 40 misses each: neither replica alone reaches minSamples (60), together they do.
    for (let i = 0; i < 40; i++) a.record("support", i % 20 === 0, 2);
    for (let i = 0; i < 40; i++) b.record("support", false, 4);
    expect(a.get("support").semanticOn).toBe(true);
    expect(await sync(a, store)).toEqual([]);
    expect(await sync(b, store)).toEqual(["support"]);
    expect(b.get("support")).toMatchObject({ semanticOn: false, lookups: 80, hits: 2, hitRate: 0.025, lookupMs: 3, switches: 1 });
    // b wrote its switch; a adopts it on its next sync without counting a switch of its own.
    expect(await sync(b, store)).toEqual([]);
    expect(await sync(a, store)).toEqual(["support"]);
    expect(a.get("support")).toMatchObject({ semanticOn: false, lookups: 80, switches: 1 });
    expect(changes).toEqual(["b:false", "a:false"]);
  });

  it("starts a restarted replica from the pool: state and lookups", async () => {
    const clock = new Clock();
    const store = new MemoryEconomicsStore();
    const a = new SemanticEconomics(cfg(), undefined, { pooled: true, now: clock.now });
    for (let i = 0; i < 70; i++) a.record("support", false, 1);
    await sync(a, store);
    await sync(a, store);
    clock.t += 5 * 60_000;
    const restarted = new SemanticEconomics(cfg(), undefined, { pooled: true, now: clock.now });
    expect(restarted.get("support")).toMatchObject({ semanticOn: true, lookups: 0 });
    await sync(restarted, store);
    expect(restarted.get("support")).toMatchObject({ semanticOn: false, lookups: 70, hitRate: 0, switches: 1 });
    expect(restarted.shouldLookup("support")).toBe(false);
  });

  it("counts the newest lookups up to the window, and none past the horizon", async () => {
    const clock = new Clock();
    const store = new MemoryEconomicsStore();
    const a = new SemanticEconomics(cfg({ minSamples: 10, window: 50 }), undefined, { pooled: true, now: clock.now });
    for (let i = 0; i < 60; i++) a.record("faq", false, 1); // an old minute of misses
    await sync(a, store);
    clock.t += 2 * 60_000;
    for (let i = 0; i < 60; i++) a.record("faq", true, 1); // then a minute of hits
    await sync(a, store);
    await sync(a, store);
    // The newest bucket alone fills the window: the old misses no longer count.
    expect(a.get("faq")).toMatchObject({ semanticOn: true, lookups: 60, hitRate: 1 });
    clock.t += 61 * 60_000;
    await sync(a, store);
    expect(a.get("faq")).toMatchObject({ lookups: 0 });
  });

  it("decides on its own lookups while the pool is away, and sends them when it answers", async () => {
    const clock = new Clock();
    const pool = new MemoryEconomicsStore();
    let down = false;
    const store: EconomicsStore = {
      kind: "flaky",
      sync: (req: EconomicsSyncRequest): Promise<EconomicsSyncResult> => (down ? Promise.reject(new Error("connection refused")) : pool.sync(req)),
    };
    const a = new SemanticEconomics(cfg(), undefined, { pooled: true, now: clock.now });
    await sync(a, store);
    down = true;
    for (let i = 0; i < 70; i++) a.record("support", false, 1);
    // Within three sync periods of the last answer the pool still decides: nothing switched yet.
    expect(a.get("support").semanticOn).toBe(true);
    const failed = a.syncRequest();
    await store.sync(failed).catch(() => a.syncFailed(failed));
    clock.t += 3_001;
    a.record("support", false, 1);
    expect(a.get("support")).toMatchObject({ semanticOn: false, lookups: 71 });
    down = false;
    await sync(a, store);
    // Every lookup reached the pool once, and so did the switch.
    const other = new SemanticEconomics(cfg(), undefined, { pooled: true, now: clock.now });
    await sync(other, store);
    expect(other.get("support")).toMatchObject({ semanticOn: false, lookups: 71, switches: 1 });
  });

  it("without a pool, decides on each lookup as before and sends nothing", () => {
    const e = new SemanticEconomics(cfg());
    for (let i = 0; i < 60; i++) e.record("x", false, 1);
    expect(e.get("x").semanticOn).toBe(false);
    expect(e.unsentSwitches).toBe(0);
  });
});
