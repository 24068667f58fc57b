// The semantic index in either mode: Qdrant when QDRANT_URL is set (past one node's memory), else the
// in-process index.
import { QdrantClient } from "@qdrant/js-client-rest";
import type { Settings } from "#libs/config/settings.ts";
import { InProcessVectorIndex } from "#services/cache/store/inprocess-vector-index.ts";
import { QdrantVectorIndex } from "#services/cache/store/qdrant-vector-index.ts";
import type { VectorIndex } from "#services/cache/store/vector-index.ts";

export function vectorIndexFor(settings: Pick<Settings, "qdrant">, o: { dim: number; embedderId: string; maxEntriesPerTenant: number; compact?: boolean }): VectorIndex {
  const q = settings.qdrant;
  if (q) return new QdrantVectorIndex({ client: new QdrantClient({ url: q.url, ...(q.apiKey ? { apiKey: q.apiKey } : {}) }), embedderId: o.embedderId, dim: o.dim });
  return new InProcessVectorIndex({ dim: o.dim, maxEntriesPerTenant: o.maxEntriesPerTenant, ...(o.compact ? { compact: true } : {}) });
}
