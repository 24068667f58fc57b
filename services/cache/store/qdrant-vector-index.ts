import { createHash } from "node:crypto";
import type { QdrantClient } from "@qdrant/js-client-rest";
import type { VectorEntryMeta, VectorIndex, VectorMatch, VectorPartition } from "./vector-index.ts";

/**
 * Qdrant adapter: one collection per embedder (name+version+dim), tenant as a keyword payload index
 * with `is_tenant: true` so Qdrant co-locates and pre-filters each tenant's points (partitioning, not
 * filtering after search). Namespace and partition key are keyword indexes too.
 */
export interface QdrantVectorIndexOptions {
  client: QdrantClient;
  /** Embedder identity: becomes the collection name. */
  embedderId: string;
  dim: number;
  collectionPrefix?: string;
}

/** Qdrant point ids must be unsigned ints or UUIDs: derive a UUID from the entry id. */
function pointId(tenant: string, id: string): string {
  const h = createHash("sha256").update(`${tenant}\u0000${id}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function collectionName(prefix: string, embedderId: string, dim: number): string {
  return `${prefix}${embedderId.replace(/[^A-Za-z0-9_-]/g, "_")}_d${dim}`.slice(0, 255);
}

export class QdrantVectorIndex implements VectorIndex {
  readonly kind = "qdrant";
  readonly collection: string;
  private ready: Promise<void> | undefined;

  constructor(private readonly o: QdrantVectorIndexOptions) {
    this.collection = collectionName(o.collectionPrefix ?? "llmgw_cache_", o.embedderId, o.dim);
  }

  /** Creates the collection and payload indexes once; idempotent across replicas. */
  ensureCollection(): Promise<void> {
    this.ready ??= (async () => {
      const { exists } = await this.o.client.collectionExists(this.collection);
      if (!exists) {
        await this.o.client.createCollection(this.collection, {
          vectors: { size: this.o.dim, distance: "Cosine" },
          // Per-tenant HNSW graphs instead of one global graph (Qdrant's multitenancy recipe).
          hnsw_config: { payload_m: 16, m: 0 },
        });
        await this.o.client.createPayloadIndex(this.collection, {
          field_name: "tenant",
          field_schema: { type: "keyword", is_tenant: true },
          wait: true,
        });
        for (const field of ["namespace", "pkey"]) {
          await this.o.client.createPayloadIndex(this.collection, { field_name: field, field_schema: "keyword", wait: true });
        }
        // Every search filters on expiry: index it so the filter stays cheap.
        await this.o.client.createPayloadIndex(this.collection, { field_name: "expiresAt", field_schema: "integer", wait: true });
      }
    })().catch((e: unknown) => {
      this.ready = undefined;
      throw e;
    });
    return this.ready;
  }

  async upsert(p: VectorPartition, meta: VectorEntryMeta, vector: Float32Array): Promise<void> {
    await this.ensureCollection();
    await this.o.client.upsert(this.collection, {
      wait: true,
      points: [
        {
          id: pointId(p.tenant, meta.id),
          vector: Array.from(vector),
          payload: { tenant: p.tenant, namespace: p.namespace, pkey: p.key, id: meta.id, text: meta.text, createdAt: meta.createdAt, expiresAt: meta.expiresAt },
        },
      ],
    });
  }

  async search(p: VectorPartition, vector: Float32Array, k: number, now: number): Promise<VectorMatch[]> {
    await this.ensureCollection();
    const res = await this.o.client.search(this.collection, {
      vector: Array.from(vector),
      limit: k,
      with_payload: true,
      filter: {
        must: [
          { key: "tenant", match: { value: p.tenant } },
          { key: "pkey", match: { value: p.key } },
          { key: "expiresAt", range: { gt: now } },
        ],
      },
    });
    const out: VectorMatch[] = [];
    for (const r of res) {
      const pl = r.payload ?? {};
      const { id, text, createdAt, expiresAt } = pl;
      if (typeof id === "string" && typeof text === "string" && typeof createdAt === "number" && typeof expiresAt === "number") {
        out.push({ score: r.score, meta: { id, text, createdAt, expiresAt } });
      }
    }
    return out;
  }

  async remove(p: VectorPartition, id: string): Promise<void> {
    await this.ensureCollection();
    await this.o.client.delete(this.collection, { wait: true, points: [pointId(p.tenant, id)] });
  }

  async invalidate(tenant: string, namespace?: string): Promise<number> {
    await this.ensureCollection();
    const must = [{ key: "tenant", match: { value: tenant } }];
    if (namespace !== undefined) must.push({ key: "namespace", match: { value: namespace } });
    const { count } = await this.o.client.count(this.collection, { filter: { must }, exact: true });
    await this.o.client.delete(this.collection, { wait: true, filter: { must } });
    return count;
  }

  /** Test helper: drop the collection. */
  async drop(): Promise<void> {
    await this.o.client.deleteCollection(this.collection);
    this.ready = undefined;
  }
}
