import { Gauge, type Registry } from "prom-client";
import { SharedVectorIndex } from "./shared-vector-index.ts";
import type { VectorIndex } from "./vector-index.ts";

/**
 * Entries this replica's semantic index holds (read at scrape time): with a shared index every
 * replica should show the same number, and a bounded one never more than the tenants' bound.
 */
export function registerIndexMetrics(registry: Registry, index: VectorIndex): void {
  const size = index.size?.bind(index);
  if (!size) return;
  new Gauge({
    name: "llmgw_cache_semantic_index_entries",
    help: "Entries in this cache replica's in-process semantic index",
    registers: [registry],
    collect() {
      this.set(size());
    },
  });
  if (!(index instanceof SharedVectorIndex)) return;
  const stats = index.stats;
  // Counts kept by the index itself, read at scrape time (a gauge of a monotonic count).
  new Gauge({
    name: "llmgw_cache_semantic_index_unshared_writes",
    help: "Semantic stores or removals this replica could not persist or publish (failed) or had no room to try (dropped): other replicas and restarts miss them",
    labelNames: ["result"],
    registers: [registry],
    collect() {
      this.set({ result: "failed" }, stats.failedWrites);
      this.set({ result: "dropped" }, stats.droppedWrites);
    },
  });
}
