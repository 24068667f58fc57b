import type { EconomicsSyncRequest, EconomicsSyncResult } from "../domain/economics-pool.ts";

/**
 * Where the replicas of the cache pool what the per-category economics measure (domain/economics.ts),
 * so that every replica decides on every replica's lookups and a restart starts from them.
 */
export interface EconomicsStore {
  readonly kind: string;
  /** Adds, writes the switches, then reads: one round trip. */
  sync(req: EconomicsSyncRequest): Promise<EconomicsSyncResult>;
}
