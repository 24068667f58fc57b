import { addTally, type EconomicsState, type EconomicsSyncRequest, type EconomicsSyncResult, type EconomicsTally } from "../domain/economics-pool.ts";
import type { EconomicsStore } from "./economics-store.ts";

/** The pool of one process (tests, and replicas sharing a process); buckets older than `retainBuckets` go. */
export class MemoryEconomicsStore implements EconomicsStore {
  readonly kind = "memory";
  private readonly buckets = new Map<string, Map<number, EconomicsTally>>();
  private readonly states = new Map<string, EconomicsState>();

  constructor(private readonly retainBuckets = 24 * 60) {}

  async sync(req: EconomicsSyncRequest): Promise<EconomicsSyncResult> {
    for (const [category, byBucket] of req.add) {
      let mine = this.buckets.get(category);
      if (!mine) this.buckets.set(category, (mine = new Map()));
      for (const [bucket, t] of byBucket) addTally(mine, bucket, t);
    }
    for (const [category, on] of req.switched) this.states.set(category, { on, switches: (this.states.get(category)?.switches ?? 0) + 1 });
    const buckets = new Map<string, Map<number, EconomicsTally>>();
    for (const [category, mine] of this.buckets) {
      for (const b of mine.keys()) if (b <= req.toBucket - this.retainBuckets) mine.delete(b);
      const read = new Map<number, EconomicsTally>();
      for (const [b, t] of mine) if (b >= req.fromBucket && b <= req.toBucket) read.set(b, { ...t });
      if (read.size > 0) buckets.set(category, read);
    }
    return { buckets, states: new Map([...this.states].map(([c, s]) => [c, { ...s }])) };
  }
}
