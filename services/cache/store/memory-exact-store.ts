import { LruMap } from "#libs/collections/lru-map.ts";
import type { CachedAnswer } from "../domain/types.ts";
import { purgeMatches, type ExactStore, type PurgeFilter } from "./exact-store.ts";

interface Entry {
  namespace: string;
  answer: CachedAnswer;
  expiresAt: number;
}

export interface MemoryExactStoreOptions {
  maxEntriesPerTenant?: number;
  /** Injected clock so TTL tests need no sleeping. */
  now?: () => number;
}

/** Bounded LRU per tenant with TTL (LruMap: O(1) eviction, where the oldest key of a Map was not). */
export class MemoryExactStore implements ExactStore {
  readonly kind = "memory";
  readonly local = true;
  private readonly tenants = new Map<string, LruMap<string, Entry>>();
  private readonly max: number;
  private readonly now: () => number;

  constructor(options: MemoryExactStoreOptions = {}) {
    this.max = options.maxEntriesPerTenant ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  size(tenant?: string): number {
    if (tenant !== undefined) return this.tenants.get(tenant)?.size ?? 0;
    let n = 0;
    for (const t of this.tenants.values()) n += t.size;
    return n;
  }

  private id(namespace: string, key: string): string {
    return `${namespace}\u0000${key}`;
  }

  async get(tenant: string, namespace: string, key: string): Promise<CachedAnswer | undefined> {
    const map = this.tenants.get(tenant);
    const id = this.id(namespace, key);
    const e = map?.get(id);
    if (!map || !e) return undefined;
    if (e.expiresAt <= this.now()) {
      map.delete(id);
      return undefined;
    }
    return e.answer;
  }

  async set(tenant: string, namespace: string, key: string, answer: CachedAnswer, ttlMs: number): Promise<void> {
    if (ttlMs <= 0) return;
    let map = this.tenants.get(tenant);
    if (!map) this.tenants.set(tenant, (map = new LruMap({ max: this.max })));
    map.set(this.id(namespace, key), { namespace, answer, expiresAt: this.now() + ttlMs });
  }

  async delete(tenant: string, namespace: string, key: string): Promise<void> {
    this.tenants.get(tenant)?.delete(this.id(namespace, key));
  }

  async invalidate(tenant: string, namespace?: string): Promise<number> {
    const map = this.tenants.get(tenant);
    if (!map) return 0;
    if (namespace === undefined) {
      this.tenants.delete(tenant);
      return map.size;
    }
    let n = 0;
    for (const [id, e] of map) {
      if (e.namespace === namespace) {
        map.delete(id);
        n++;
      }
    }
    return n;
  }

  async purge(tenant: string, filter: PurgeFilter): Promise<number> {
    const map = this.tenants.get(tenant);
    if (!map) return 0;
    let n = 0;
    for (const [id, e] of map) {
      if ((filter.namespace === undefined || e.namespace === filter.namespace) && purgeMatches(e.answer, filter)) {
        map.delete(id);
        n++;
      }
    }
    return n;
  }
}
