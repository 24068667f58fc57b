// Builds the ledger: database (PostgreSQL in the mesh, PGlite embedded) with migrations applied,
// budgets (Redis in the mesh so replicas share them, in-memory embedded), the RequestCompleted
// consumer on the bus, and the RPC service.
import { Redis } from "ioredis";
import type { EventBus } from "#libs/bus/event-bus.ts";
import { LedgerService } from "#libs/gen/llmgw/ledger/v1/ledger_pb.ts";
import { loadPriceTable } from "#libs/pricing/index.ts";
import type { BuildContext, BuiltService } from "#libs/server/service-parts.ts";
import { LedgerConsumer } from "./consumer/ledger-consumer.ts";
import { ShadowCallConsumer } from "./consumer/shadow-call-consumer.ts";
import { Budgets, type BudgetStore } from "./domain/budget.ts";
import { BudgetLimitRepo } from "./storage/budget-limits.ts";
import { MemoryBudgetStore } from "./storage/budget-store-memory.ts";
import { RedisBudgetStore } from "./storage/budget-store-redis.ts";
import { KeyStore } from "./storage/key-store.ts";
import { LedgerWriter } from "./storage/ledger-writer.ts";
import { openDatabase } from "./storage/open-database.ts";
import { ShadowCallWriter } from "./storage/shadow-call-writer.ts";
import { SpendReport } from "./storage/spend-report.ts";
import { LedgerServiceImpl } from "./service.ts";

export interface BuiltLedger extends BuiltService<typeof LedgerService> {
  keys: KeyStore;
}

export async function buildLedgerService(ctx: BuildContext, deps: { bus: EventBus; databaseUrl: string; schema?: string }): Promise<BuiltLedger> {
  const db = await openDatabase(deps.databaseUrl, deps.schema ? { schema: deps.schema } : {});
  const prices = loadPriceTable(ctx.env.LLMGW_PRICES_FILE);
  const keys = new KeyStore(db.sql);
  let redis: Redis | undefined;
  let store: BudgetStore;
  let versions: RedisBudgetStore | undefined;
  if (ctx.mode === "mesh") {
    // Admission must not wait on a Redis that is gone: no offline queue and a command timeout (the
    // edge then admits and counts it as degraded). 1 s, not less: a loaded machine must not trip it,
    // since every false timeout admits a request past the hard limit. Redis must be up at start.
    redis = new Redis(ctx.env.REDIS_URL ?? "redis://127.0.0.1:6379", { maxRetriesPerRequest: 0, enableOfflineQueue: false, commandTimeout: 1_000 });
    redis.on("error", (e: Error) => ctx.logger.debug({ err: e.message }, "redis error"));
    const r = redis;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("Redis not reachable for budgets within 5 s")), 5_000);
      r.once("ready", () => {
        clearTimeout(t);
        resolve();
      });
    });
    versions = new RedisBudgetStore(redis, ctx.env.LLMGW_BUDGET_PREFIX ?? "llmgw:");
    store = versions;
  } else {
    store = new MemoryBudgetStore();
  }
  // Limits are cached per replica. In the mesh a change bumps the tenant's version in Redis and every
  // reservation checks it, so it applies at once on all replicas; the 5 s TTL only bounds staleness
  // when Redis was down during the change. Embedded: one process, one cache, cleared on set.
  const limits = new BudgetLimitRepo(db.sql, 5_000, versions);
  const budgets = new Budgets(store, limits);
  const consumer = new LedgerConsumer({ bus: deps.bus, writer: new LedgerWriter(db.sql, prices), names: deps.bus.names, logger: ctx.logger });
  await consumer.start();
  const shadowCalls = new ShadowCallConsumer(deps.bus, new ShadowCallWriter(db.sql, prices), ctx.logger);
  await shadowCalls.start();
  ctx.logger.info({ database: db.kind, budgets: ctx.mode === "mesh" ? "redis" : "memory" }, "ledger ready");
  return {
    service: LedgerService,
    impl: new LedgerServiceImpl(keys, budgets, new SpendReport(db.sql), limits),
    keys,
    ready: async () => {
      try {
        await db.sql.query("SELECT 1");
        return true;
      } catch {
        return false;
      }
    },
    close: async () => {
      await consumer.stop();
      await shadowCalls.stop();
      await db.close();
      redis?.disconnect();
    },
  };
}
