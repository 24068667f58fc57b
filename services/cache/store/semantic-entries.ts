// Where semantic entries live durably, so a replica that starts (or restarts) rebuilds its index from
// them: Redis in the mesh (beside the exact layer), memory in tests. Bounded per tenant, oldest first.
import { LruMap } from "#libs/collections/lru-map.ts";
import type { PurgeFilter } from "./exact-store.ts";
import { decodeEntry, encodeEntry, metaMatches, type SemanticEntry, type TextSeal } from "./semantic-entry.ts";

export interface SemanticEntryStore {
  readonly kind: string;
  put(entry: SemanticEntry, ttlMs: number): Promise<void>;
  remove(tenant: string, id: string): Promise<void>;
  /** Drops a tenant's entries matching the filter (an empty filter: all of them); returns how many. */
  drop(tenant: string, filter: PurgeFilter): Promise<number>;
  /** Visits every live entry, each tenant's oldest first; returns how many were visited. */
  load(visit: (entry: SemanticEntry) => void): Promise<number>;
}

export function filterMatches(entry: Pick<SemanticEntry, "partition" | "meta">, filter: PurgeFilter): boolean {
  if (filter.namespace !== undefined && entry.partition.namespace !== filter.namespace) return false;
  return metaMatches(entry.meta, filter);
}

/** In-process store of encoded entries (the same bytes Redis holds), for tests of the shared index. */
export class MemorySemanticEntries implements SemanticEntryStore {
  readonly kind = "memory";
  /** tenant -> id -> bytes and expiry, least recently put first. */
  private readonly tenants = new Map<string, LruMap<string, { bytes: Uint8Array; expiresAt: number }>>();

  constructor(private readonly o: { maxEntriesPerTenant?: number; seal?: TextSeal; now?: () => number } = {}) {}

  /** The stored bytes, for tests that check what is at rest. */
  raw(tenant: string): Uint8Array[] {
    return [...(this.tenants.get(tenant)?.values() ?? [])].map((e) => e.bytes);
  }

  async put(entry: SemanticEntry, ttlMs: number): Promise<void> {
    const t = entry.partition.tenant;
    let m = this.tenants.get(t);
    if (!m) this.tenants.set(t, (m = new LruMap({ max: this.o.maxEntriesPerTenant ?? Number.POSITIVE_INFINITY })));
    m.set(entry.meta.id, { bytes: encodeEntry(entry, this.o.seal), expiresAt: this.now() + ttlMs });
  }

  async remove(tenant: string, id: string): Promise<void> {
    this.tenants.get(tenant)?.delete(id);
  }

  async drop(tenant: string, filter: PurgeFilter): Promise<number> {
    const m = this.tenants.get(tenant);
    if (!m) return 0;
    let n = 0;
    for (const [id, e] of m) {
      const entry = decodeEntry(e.bytes);
      if (entry && filterMatches(entry, filter)) {
        m.delete(id);
        n++;
      }
    }
    return n;
  }

  async load(visit: (entry: SemanticEntry) => void): Promise<number> {
    let n = 0;
    const now = this.now();
    for (const m of this.tenants.values()) {
      for (const e of m.values()) {
        if (e.expiresAt <= now) continue;
        const entry = decodeEntry(e.bytes, this.o.seal);
        if (entry) {
          visit(entry);
          n++;
        }
      }
    }
    return n;
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }
}
