// Mesh backends: real servers shared by replicas. Redis for the exact cache and budgets, PostgreSQL
// for the ledger, NATS JetStream for events. Each is opened on first use, so a process connects
// only to what its services need.
import { Redis, type RedisOptions } from "ioredis";
import { connectNatsBus } from "#libs/bus/connect-nats.ts";
import type { EventBus } from "#libs/bus/event-bus.ts";
import { DEFAULT_DATABASE_URL, type Settings } from "#libs/config/settings.ts";
import type { Logger } from "#libs/log/logger.ts";
import { RedisExactStore } from "#services/cache/store/redis-exact-store.ts";
import type { BudgetBackend } from "#services/ledger/build.ts";
import { RedisBudgetStore } from "#services/ledger/storage/budget-store-redis.ts";
import { openDatabase, type OpenedDatabase } from "#libs/sql/open-database.ts";
import type { Backends } from "./backends.ts";
import { migrated } from "./migrated.ts";
import { vectorIndexFor } from "./vector-index.ts";

export function meshBackends(settings: Settings, logger: Logger): Backends {
  const closers: (() => Promise<void>)[] = [];
  const buses = new Map<string, Promise<{ bus: EventBus; connected: () => boolean }>>();
  let db: Promise<OpenedDatabase> | undefined;
  let budgets: Promise<BudgetBackend> | undefined;
  const connected: (() => boolean)[] = [];

  const redis = (opts: RedisOptions): Redis => {
    const r = new Redis(settings.redisUrl, opts);
    r.on("error", (e: Error) => logger.debug({ err: e.message }, "redis error"));
    closers.push(async () => r.disconnect());
    return r;
  };

  return {
    kind: "servers",
    // Never block requests on Redis: no offline queue, no retries per call (a miss, not an error).
    exactStore: () => new RedisExactStore(redis({ enableOfflineQueue: false, maxRetriesPerRequest: 0 }), settings.cachePrefix),
    vectorIndex: (o) => vectorIndexFor(settings, o),
    database: (set) =>
      migrated(
        set,
        (db ??= openDatabase(settings.databaseUrl ?? DEFAULT_DATABASE_URL, settings.databaseSchema ? { schema: settings.databaseSchema } : {}).then((d) => {
          closers.push(() => d.close());
          return d;
        })),
      ),
    budgetStore: () =>
      (budgets ??= (async () => {
        // Admission must not wait on a Redis that is gone: no offline queue and a command timeout (the
        // edge then admits and counts it as degraded). 1 s, not less: a loaded machine must not trip
        // it, since every false timeout admits a request past the hard limit. Redis must be up at start.
        const r = redis({ maxRetriesPerRequest: 0, enableOfflineQueue: false, commandTimeout: 1_000 });
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`Redis not reachable for budgets at ${settings.redisUrl} within 5 s`)), 5_000);
          r.once("ready", () => {
            clearTimeout(t);
            resolve();
          });
        });
        const store = new RedisBudgetStore(r, settings.budgetPrefix);
        return { store, versions: store };
      })()),
    bus: (client) => {
      let b = buses.get(client);
      if (!b) {
        b = connectNatsBus(settings.natsUrl, logger, client, settings.bus).then((n) => {
          closers.push(n.close);
          connected.push(n.connected);
          return n;
        });
        buses.set(client, b);
      }
      return b.then((n) => n.bus);
    },
    healthy: () => connected.every((c) => c()),
    async close() {
      for (const c of closers.reverse()) await c().catch((e: unknown) => logger.warn({ err: String(e) }, "backend close failed"));
    },
  };
}
