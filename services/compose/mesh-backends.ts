// Mesh backends: real servers shared by replicas. Redis for the exact cache and budgets, PostgreSQL
// for the ledger, NATS JetStream for events. Each is opened on first use, so a process connects
// only to what its services need.
import { Redis, type RedisOptions } from "ioredis";
import { connectNatsBus } from "#libs/bus/connect-nats.ts";
import { DEFAULT_BUDGETS, DEFAULT_DEPENDENCIES, type BudgetsConfig, type DependenciesConfig } from "#libs/config/resilience.ts";
import type { EventBus } from "#libs/bus/event-bus.ts";
import { DEFAULT_DATABASE_URL, type Settings } from "#libs/config/settings.ts";
import type { Logger } from "#libs/log/logger.ts";
import { RedisEconomicsStore } from "#services/cache/store/redis-economics-store.ts";
import { RedisExactStore } from "#services/cache/store/redis-exact-store.ts";
import { InProcessVectorIndex } from "#services/cache/store/inprocess-vector-index.ts";
import { NatsIndexFeed } from "#services/cache/store/nats-index-feed.ts";
import { RedisSemanticEntries } from "#services/cache/store/redis-semantic-entries.ts";
import { SharedVectorIndex } from "#services/cache/store/shared-vector-index.ts";
import { NatsEventBus } from "#libs/bus/nats-bus.ts";
import type { BudgetBackend } from "#services/ledger/build.ts";
import { GuardedBudgetStore } from "#services/ledger/storage/budget-store-guarded.ts";
import { RedisBudgetStore } from "#services/ledger/storage/budget-store-redis.ts";
import type { OpenedDatabase } from "#libs/sql/open-database.ts";
import type { Backends } from "./backends.ts";
import { migrated } from "./migrated.ts";
import { vectorIndexFor } from "./vector-index.ts";

/** Timeouts and the budget outage mode: the config's `dependencies` and `budgets` sections. */
export interface Resilience {
  dependencies: DependenciesConfig;
  budgets: BudgetsConfig;
}

/** The NATS connection under a mesh bus (always a NatsEventBus here). */
async function natsOf(bus: Promise<EventBus>) {
  const b = await bus;
  if (!(b instanceof NatsEventBus)) throw new Error("the mesh bus is not on NATS");
  return b.connection;
}

export function meshBackends(settings: Settings, logger: Logger, resilience: Resilience = { dependencies: DEFAULT_DEPENDENCIES, budgets: DEFAULT_BUDGETS }): Backends {
  const { dependencies: deps, budgets: budgetCfg } = resilience;
  const closers: (() => Promise<void>)[] = [];
  const buses = new Map<string, Promise<{ bus: EventBus; connected: () => boolean }>>();
  let db: Promise<OpenedDatabase> | undefined;
  let budgets: Promise<BudgetBackend> | undefined;
  const connected: (() => boolean)[] = [];

  const redis = (opts: RedisOptions): Redis => {
    const r = new Redis(settings.redisUrl, opts);
    // Without an 'error' listener ioredis logs every failed reconnect as unhandled; it reconnects by itself.
    r.on("error", (e: Error) => logger.debug({ err: e.message }, "redis error"));
    closers.push(async () => r.disconnect());
    return r;
  };

  const bus = (client: string): Promise<EventBus> => {
    let b = buses.get(client);
    if (!b) {
      b = connectNatsBus(settings.natsUrl, logger, client, settings.bus, { publishTimeoutMs: deps.nats_publish_timeout_ms }).then((n) => {
        closers.push(n.close);
        connected.push(n.connected);
        return n;
      });
      buses.set(client, b);
      // A broker away at the first connect: the next caller (the semantic index's retry) tries again.
      b.catch(() => buses.delete(client));
    }
    return b.then((n) => n.bus);
  };

  return {
    kind: "servers",
    // Never block requests on Redis: no offline queue, no retries per call (a miss, not an error).
    exactStore: () => new RedisExactStore(redis({ enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: deps.redis_command_timeout_ms }), settings.cachePrefix),
    // Past one node's memory Qdrant; otherwise every replica's in-process index kept in step through
    // Redis (entries, for rebuild) and a JetStream stream (stores and invalidations).
    vectorIndex: (o) =>
      settings.qdrant
        ? vectorIndexFor(settings, o)
        : new SharedVectorIndex({
            local: new InProcessVectorIndex({ dim: o.dim, maxEntriesPerTenant: o.maxEntriesPerTenant, ...(o.compact ? { compact: true } : {}) }),
            entries: new RedisSemanticEntries(redis({ maxRetriesPerRequest: 1, commandTimeout: 5_000 }), { prefix: settings.cachePrefix, maxEntriesPerTenant: o.maxEntriesPerTenant, ...(o.seal ? { seal: o.seal } : {}) }),
            feed: new NatsIndexFeed(() => natsOf(bus("cache-index")), settings.bus, { publishTimeoutMs: deps.nats_publish_timeout_ms, ...(o.seal ? { seal: o.seal } : {}) }),
            embedderId: o.embedderId,
            logger: logger.child({ component: "semantic-index" }),
          }),
    // The cache replicas' pooled economics; a sync may wait for the connection (it runs off the hot path).
    economicsStore: (o) => new RedisEconomicsStore(redis({ maxRetriesPerRequest: 1, commandTimeout: 5_000 }), { prefix: settings.cachePrefix, retainMs: o.retainMs }),
    database: (set) =>
      migrated(
        set,
        // Imported on first use: only the processes that keep rows load pg and the migration runner.
        (db ??= import("#libs/sql/open-database.ts").then(({ openDatabase }) => openDatabase(settings.databaseUrl ?? DEFAULT_DATABASE_URL, {
          ...(settings.databaseSchema ? { schema: settings.databaseSchema } : {}),
          statementTimeoutMs: deps.postgres_statement_timeout_ms,
          queryTimeoutMs: deps.postgres_query_timeout_ms,
          connectTimeoutMs: deps.postgres_connect_timeout_ms,
          onError: (e) => logger.warn({ err: e.message }, "postgres connection lost (idle client)"),
        })).then((d) => {
          closers.push(() => d.close());
          return d;
        })),
      ),
    budgetStore: () =>
      (budgets ??= (async () => {
        // Admission must not wait on a Redis that is gone: no offline queue and a command timeout, past
        // which budgets.outage_mode decides (GuardedBudgetStore). A Redis still away after 5 s at start
        // does not stop the ledger: it starts in outage mode and the store's probe brings Redis in later.
        const r = redis({ maxRetriesPerRequest: 0, enableOfflineQueue: false, commandTimeout: budgetCfg.redis_timeout_ms });
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            logger.warn({ redis: settings.redisUrl, mode: budgetCfg.outage_mode }, "Redis not reachable for budgets within 5 s; starting in outage mode");
            resolve();
          }, 5_000);
          r.once("ready", () => {
            clearTimeout(t);
            resolve();
          });
        });
        const store = new GuardedBudgetStore(new RedisBudgetStore(r, settings.budgetPrefix), budgetCfg, logger);
        await store.start();
        closers.push(() => store.stop());
        // In open and local modes the ledger admits without Redis (degraded); closed admits nothing.
        return { store, versions: store, canAdmit: () => store.available() || budgetCfg.outage_mode !== "closed" };
      })()),
    bus,
    healthy: () => connected.every((c) => c()),
    async close() {
      for (const c of closers.reverse()) await c().catch((e: unknown) => logger.warn({ err: String(e) }, "backend close failed"));
    },
  };
}
