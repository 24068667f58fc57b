// The semantic index in either mode: Qdrant when QDRANT_URL is set (past one node's memory), else the
// in-process index.
import { createRequire } from "node:module";
import type { Settings } from "#libs/config/settings.ts";
import { InProcessVectorIndex } from "#services/cache/store/inprocess-vector-index.ts";
import { QdrantVectorIndex } from "#services/cache/store/qdrant-vector-index.ts";
import type { VectorIndex } from "#services/cache/store/vector-index.ts";

// The Qdrant client (~3 MB resident with its fetch layer) is loaded only when QDRANT_URL is set.
const requireQdrant = createRequire(import.meta.url);

export function vectorIndexFor(settings: Pick<Settings, "qdrant">, o: { dim: number; embedderId: string; maxEntriesPerTenant: number; compact?: boolean }): VectorIndex {
  const q = settings.qdrant;
  if (q) {
    const { QdrantClient } = requireQdrant("@qdrant/js-client-rest") as typeof import("@qdrant/js-client-rest");
    return new QdrantVectorIndex({ client: new QdrantClient({ url: q.url, ...(q.apiKey ? { apiKey: q.apiKey } : {}) }), embedderId: o.embedderId, dim: o.dim });
  }
  return new InProcessVectorIndex({ dim: o.dim, maxEntriesPerTenant: o.maxEntriesPerTenant, ...(o.compact ? { compact: true } : {}) });
}
