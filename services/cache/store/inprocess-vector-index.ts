import type { VectorEntryMeta, VectorIndex, VectorMatch, VectorPartition } from "./vector-index.ts";

/**
 * Exact (brute-force) cosine search over contiguous Float32 rows, one block per partition, so a lookup
 * touches only its own tenant's rows (partitioning, not post-filtering). Removal swaps the last row in.
 * Per-tenant bound with oldest-first eviction through an insertion-ordered Map (LRU on upsert).
 */
class Partition {
  data: Float32Array;
  metas: VectorEntryMeta[] = [];
  rowOf = new Map<string, number>();

  constructor(
    readonly dim: number,
    readonly namespace: string,
  ) {
    this.data = new Float32Array(dim * 8);
  }

  get size(): number {
    return this.metas.length;
  }

  upsert(meta: VectorEntryMeta, vector: Float32Array): boolean {
    const existing = this.rowOf.get(meta.id);
    const row = existing ?? this.metas.length;
    if (existing === undefined) {
      if ((row + 1) * this.dim > this.data.length) {
        const grown = new Float32Array(Math.max(this.data.length * 2, (row + 1) * this.dim));
        grown.set(this.data);
        this.data = grown;
      }
      this.metas.push(meta);
      this.rowOf.set(meta.id, row);
    } else {
      this.metas[row] = meta;
    }
    this.data.set(vector.subarray(0, this.dim), row * this.dim);
    return existing === undefined;
  }

  remove(id: string): boolean {
    const row = this.rowOf.get(id);
    if (row === undefined) return false;
    const last = this.metas.length - 1;
    if (row !== last) {
      const lastMeta = this.metas[last] as VectorEntryMeta;
      this.data.copyWithin(row * this.dim, last * this.dim, (last + 1) * this.dim);
      this.metas[row] = lastMeta;
      this.rowOf.set(lastMeta.id, row);
    }
    this.metas.pop();
    this.rowOf.delete(id);
    return true;
  }

  search(q: Float32Array, k: number, now: number): { matches: VectorMatch[]; expired: string[] } {
    const dim = this.dim;
    const data = this.data;
    const n = this.metas.length;
    // Keep a small sorted top-k; k is tiny (<= 50) so insertion beats a heap.
    const topScores: number[] = [];
    const topRows: number[] = [];
    const expired: string[] = [];
    const dim4 = dim - (dim % 4);
    for (let r = 0; r < n; r++) {
      const base = r * dim;
      // Four accumulators: breaks the add dependency chain, ~2x faster in V8 than the naive loop.
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let i = 0;
      for (; i < dim4; i += 4) {
        s0 += (data[base + i] as number) * (q[i] as number);
        s1 += (data[base + i + 1] as number) * (q[i + 1] as number);
        s2 += (data[base + i + 2] as number) * (q[i + 2] as number);
        s3 += (data[base + i + 3] as number) * (q[i + 3] as number);
      }
      for (; i < dim; i++) s0 += (data[base + i] as number) * (q[i] as number);
      const s = s0 + s1 + s2 + s3;
      if (topScores.length === k && s <= (topScores[k - 1] as number)) continue;
      const meta = this.metas[r] as VectorEntryMeta;
      if (meta.expiresAt <= now) {
        expired.push(meta.id);
        continue;
      }
      let pos = topScores.length;
      while (pos > 0 && (topScores[pos - 1] as number) < s) pos--;
      topScores.splice(pos, 0, s);
      topRows.splice(pos, 0, r);
      if (topScores.length > k) {
        topScores.pop();
        topRows.pop();
      }
    }
    const matches = topRows.map((r, i) => ({ meta: this.metas[r] as VectorEntryMeta, score: topScores[i] as number }));
    return { matches, expired };
  }
}

export interface InProcessVectorIndexOptions {
  dim: number;
  maxEntriesPerTenant?: number;
}

export class InProcessVectorIndex implements VectorIndex {
  readonly kind = "in-process";
  private readonly dim: number;
  private readonly maxPerTenant: number;
  /** tenant -> partition key -> partition */
  private readonly tenants = new Map<string, Map<string, Partition>>();
  /** tenant -> entry id -> partition key, in insertion (LRU) order for eviction. */
  private readonly order = new Map<string, Map<string, string>>();

  constructor(options: InProcessVectorIndexOptions) {
    this.dim = options.dim;
    this.maxPerTenant = options.maxEntriesPerTenant ?? Number.POSITIVE_INFINITY;
  }

  /** Entries held, all tenants. */
  size(): number {
    let n = 0;
    for (const o of this.order.values()) n += o.size;
    return n;
  }

  tenantSize(tenant: string): number {
    return this.order.get(tenant)?.size ?? 0;
  }

  async upsert(p: VectorPartition, meta: VectorEntryMeta, vector: Float32Array): Promise<void> {
    this.upsertSync(p, meta, vector);
  }

  /** Synchronous core, also used by the benchmark to measure the index without promise overhead. */
  upsertSync(p: VectorPartition, meta: VectorEntryMeta, vector: Float32Array): void {
    if (vector.length !== this.dim) throw new Error(`vector dim ${vector.length} != index dim ${this.dim}`);
    let parts = this.tenants.get(p.tenant);
    if (!parts) this.tenants.set(p.tenant, (parts = new Map()));
    let order = this.order.get(p.tenant);
    if (!order) this.order.set(p.tenant, (order = new Map()));
    const prevKey = order.get(meta.id);
    if (prevKey !== undefined && prevKey !== p.key) this.removeSync({ ...p, key: prevKey }, meta.id);
    let part = parts.get(p.key);
    if (!part) parts.set(p.key, (part = new Partition(this.dim, p.namespace)));
    part.upsert(meta, vector);
    order.delete(meta.id);
    order.set(meta.id, p.key);
    while (order.size > this.maxPerTenant) {
      const oldest = order.keys().next();
      if (oldest.done) break;
      this.removeSync({ tenant: p.tenant, namespace: "", key: order.get(oldest.value) as string }, oldest.value);
    }
  }

  async search(p: VectorPartition, vector: Float32Array, k: number, now: number): Promise<VectorMatch[]> {
    return this.searchSync(p, vector, k, now);
  }

  searchSync(p: VectorPartition, vector: Float32Array, k: number, now: number): VectorMatch[] {
    const part = this.tenants.get(p.tenant)?.get(p.key);
    if (!part) return [];
    const { matches, expired } = part.search(vector, k, now);
    for (const id of expired) this.removeSync(p, id);
    return matches;
  }

  async remove(p: VectorPartition, id: string): Promise<void> {
    this.removeSync(p, id);
  }

  private removeSync(p: VectorPartition, id: string): void {
    const parts = this.tenants.get(p.tenant);
    const part = parts?.get(p.key);
    if (!parts || !part) return;
    if (part.remove(id)) this.order.get(p.tenant)?.delete(id);
    if (part.size === 0) parts.delete(p.key);
  }

  async invalidate(tenant: string, namespace?: string): Promise<number> {
    const parts = this.tenants.get(tenant);
    if (!parts) return 0;
    let dropped = 0;
    const order = this.order.get(tenant);
    for (const [key, part] of parts) {
      if (namespace !== undefined && part.namespace !== namespace) continue;
      dropped += part.size;
      for (const m of part.metas) order?.delete(m.id);
      parts.delete(key);
    }
    if (parts.size === 0) {
      this.tenants.delete(tenant);
      this.order.delete(tenant);
    }
    return dropped;
  }
}
