import { LruMap } from "#libs/collections/lru-map.ts";
import type { CachedAnswer } from "../domain/types.ts";
import { purgeMatches, type ExactStore, type PurgeFilter } from "./exact-store.ts";

interface Entry {
  namespace: string;
  answer: CachedAnswer;
  expiresAt: number;
  /** What it holds in memory, about: its strings (two bytes a character) and a fixed overhead. */
  bytes: number;
}

export interface MemoryExactStoreOptions {
  maxEntriesPerTenant?: number;
  /** Bytes held across tenants (about); past it the tenant holding most loses its oldest entries. */
  maxBytes?: number;
  /** Injected clock so TTL tests need no sleeping. */
  now?: () => number;
}

interface Tenant {
  map: LruMap<string, Entry>;
  bytes: number;
}

const ENTRY_OVERHEAD = 160;

/**
 * Bounded LRU per tenant with TTL (LruMap: O(1) eviction, where the oldest key of a Map was not), and a
 * byte bound across tenants: entries are counted by size, since one answer can be megabytes.
 */
export class MemoryExactStore implements ExactStore {
  readonly kind = "memory";
  readonly local = true;
  private readonly tenants = new Map<string, Tenant>();
  private readonly max: number;
  private readonly maxBytes: number;
  private readonly now: () => number;
  private total = 0;

  constructor(options: MemoryExactStoreOptions = {}) {
    this.max = options.maxEntriesPerTenant ?? 100_000;
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    this.now = options.now ?? Date.now;
  }

  size(tenant?: string): number {
    if (tenant !== undefined) return this.tenants.get(tenant)?.map.size ?? 0;
    let n = 0;
    for (const t of this.tenants.values()) n += t.map.size;
    return n;
  }

  /** Bytes held (about), all tenants or one. */
  bytes(tenant?: string): number {
    return tenant === undefined ? this.total : (this.tenants.get(tenant)?.bytes ?? 0);
  }

  private id(namespace: string, key: string): string {
    return `${namespace}\u0000${key}`;
  }

  async get(tenant: string, namespace: string, key: string): Promise<CachedAnswer | undefined> {
    const t = this.tenants.get(tenant);
    const id = this.id(namespace, key);
    const e = t?.map.get(id);
    if (!t || !e) return undefined;
    if (e.expiresAt <= this.now()) {
      this.remove(t, id);
      return undefined;
    }
    return e.answer;
  }

  async set(tenant: string, namespace: string, key: string, answer: CachedAnswer, ttlMs: number): Promise<void> {
    if (ttlMs <= 0) return;
    const id = this.id(namespace, key);
    const bytes = 2 * (id.length + answer.completionJson.length + answer.model.length) + ENTRY_OVERHEAD;
    if (bytes > this.maxBytes) return;
    let t = this.tenants.get(tenant);
    if (!t) {
      const fresh: Tenant = { bytes: 0, map: new LruMap({ max: this.max, onEvict: (_k, e) => this.forget(fresh, e) }) };
      this.tenants.set(tenant, (t = fresh));
    }
    this.remove(t, id);
    t.bytes += bytes;
    this.total += bytes;
    t.map.set(id, { namespace, answer, expiresAt: this.now() + ttlMs, bytes });
    while (this.total > this.maxBytes) this.evictFromLargest();
  }

  /** The oldest entry of the tenant holding most bytes: one tenant cannot take the others' room. */
  private evictFromLargest(): void {
    let largest: Tenant | undefined;
    for (const t of this.tenants.values()) if (!largest || t.bytes > largest.bytes) largest = t;
    const oldest = largest?.map.oldest();
    if (!largest || !oldest) {
      this.total = 0; // nothing left to count
      return;
    }
    this.remove(largest, oldest[0]);
  }

  private remove(t: Tenant, id: string): boolean {
    const e = t.map.peek(id);
    if (!e) return false;
    t.map.delete(id);
    this.forget(t, e);
    return true;
  }

  private forget(t: Tenant, e: Entry): void {
    t.bytes -= e.bytes;
    this.total -= e.bytes;
  }

  async delete(tenant: string, namespace: string, key: string): Promise<void> {
    const t = this.tenants.get(tenant);
    if (t) this.remove(t, this.id(namespace, key));
  }

  async invalidate(tenant: string, namespace?: string): Promise<number> {
    const t = this.tenants.get(tenant);
    if (!t) return 0;
    if (namespace === undefined) {
      this.tenants.delete(tenant);
      this.total -= t.bytes;
      return t.map.size;
    }
    let n = 0;
    for (const [id, e] of t.map) {
      if (e.namespace === namespace && this.remove(t, id)) n++;
    }
    return n;
  }

  async purge(tenant: string, filter: PurgeFilter): Promise<number> {
    const t = this.tenants.get(tenant);
    if (!t) return 0;
    let n = 0;
    for (const [id, e] of t.map) {
      if ((filter.namespace === undefined || e.namespace === filter.namespace) && purgeMatches(e.answer, filter) && this.remove(t, id)) n++;
    }
    return n;
  }
}
