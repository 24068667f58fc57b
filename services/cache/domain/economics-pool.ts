/**
 * What the replicas of the cache pool about the per-category economics (economics.ts), through an
 * EconomicsStore: lookups counted in time buckets, each replica adding its own, and the layer's state
 * per category, written by the replica that switches it.
 */
export interface EconomicsTally {
  lookups: number;
  hits: number;
  /** Summed time of the lookups, ms. */
  msSum: number;
}

export interface EconomicsState {
  on: boolean;
  /** Switches by any replica, since the state was first written. */
  switches: number;
}

export interface EconomicsSyncRequest {
  /** Tallies to add: category → bucket → tally. */
  add: ReadonlyMap<string, ReadonlyMap<number, EconomicsTally>>;
  /** Categories this replica switched since its last sync, with their new state. */
  switched: ReadonlyMap<string, boolean>;
  /** Buckets to read back after adding, inclusive. */
  fromBucket: number;
  toBucket: number;
}

export interface EconomicsSyncResult {
  /** category → bucket → tally, for the buckets read (empty buckets left out). */
  buckets: Map<string, Map<number, EconomicsTally>>;
  states: Map<string, EconomicsState>;
}


export function addTally(into: Map<number, EconomicsTally>, bucket: number, t: EconomicsTally): void {
  const cur = into.get(bucket);
  if (cur) {
    cur.lookups += t.lookups;
    cur.hits += t.hits;
    cur.msSum += t.msSum;
  } else into.set(bucket, { ...t });
}
