import { Gauge, type Registry } from "prom-client";
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
}
