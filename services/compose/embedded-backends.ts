// Embedded backends: one process, no servers. PGlite (real Postgres in WASM) for the ledger, an
// in-process bus, in-memory exact cache and budgets.
import { MemoryEventBus } from "#libs/bus/memory-bus.ts";
import { embeddedDatabaseUrl, type Settings } from "#libs/config/settings.ts";
import { MemoryExactStore } from "#services/cache/store/memory-exact-store.ts";
import { MemoryBudgetStore } from "#services/ledger/storage/budget-store-memory.ts";
import { openDatabase, type OpenedDatabase } from "#libs/sql/open-database.ts";
import type { Backends } from "./backends.ts";
import { migrated } from "./migrated.ts";
import { vectorIndexFor } from "./vector-index.ts";

export function embeddedBackends(settings: Settings): Backends & { memoryBus: MemoryEventBus } {
  const bus = new MemoryEventBus({ names: settings.bus });
  let db: Promise<OpenedDatabase> | undefined;
  return {
    kind: "embedded",
    memoryBus: bus,
    exactStore: (o) => new MemoryExactStore(o),
    vectorIndex: (o) => vectorIndexFor(settings, o),
    database: (set) => migrated(set, (db ??= openDatabase(settings.databaseUrl ?? embeddedDatabaseUrl(settings)))),
    budgetStore: async () => ({ store: new MemoryBudgetStore() }),
    bus: async () => bus,
    healthy: () => true,
    async close() {
      await bus.close();
      if (db) await (await db).close();
    },
  };
}
