// Builds the ledger over the database, budget store and event bus the composition root hands it
// (PostgreSQL / PGlite; Redis / memory; NATS / in-process): migrations applied on open, the
// RequestCompleted and shadow-call consumers on the bus, and the RPC service.
import type { EventBus } from "#libs/bus/event-bus.ts";
import { LedgerService } from "#libs/gen/llmgw/ledger/v1/ledger_pb.ts";
import type { BuildContext, BuiltService } from "#libs/server/service-parts.ts";
import { LedgerConsumer } from "./consumer/ledger-consumer.ts";
import { ShadowCallConsumer } from "./consumer/shadow-call-consumer.ts";
import { Budgets, type BudgetStore, type LimitsVersions } from "./domain/budget.ts";
import { BudgetLimitRepo } from "./storage/budget-limits.ts";
import { KeyStore } from "./storage/key-store.ts";
import { LedgerWriter } from "./storage/ledger-writer.ts";
import type { MigrationSet } from "#libs/sql/migrate.ts";
import { reachable, type SqlClient } from "#libs/sql/sql-client.ts";
import { LEDGER_MIGRATIONS } from "./storage/migrations.ts";
import { observedBudgetStore } from "./storage/observed-budget-store.ts";
import { ledgerMetrics } from "./consumer/ledger-metrics.ts";
import { unpricedCounter } from "#libs/pricing/index.ts";
import { ShadowCallWriter } from "./storage/shadow-call-writer.ts";
import { SpendReport } from "./storage/spend-report.ts";
import { LedgerServiceImpl } from "./service.ts";
import { ResponseRpcs } from "./response-rpcs.ts";
import { purgeEvery, ResponseStore } from "./storage/response-store.ts";
import { AccessRpcs } from "./access-rpcs.ts";
import { BatchRpcs } from "./batch-rpcs.ts";
import { BatchStore } from "./storage/batch-store.ts";
import { AdmissionLimits, RateLimitRepo } from "./storage/rate-limits.ts";
import { RefusalRecorder } from "./storage/refusal-recorder.ts";
import { broadcastSubjects, encodeKeyRevoked } from "#libs/bus/broadcast.ts";

/** A budget store; with `versions` (shared by replicas) a limit change applies at once on all of them. */
export interface BudgetBackend {
  store: BudgetStore;
  versions?: LimitsVersions;
  /** False while the store cannot admit anything (Redis down with budgets.outage_mode closed): not ready. */
  canAdmit?(): boolean;
}

export interface LedgerBackends {
  /** The database, with these migrations applied. */
  database(migrations: MigrationSet): Promise<{ kind: string; sql: SqlClient }>;
  budgetStore(): Promise<BudgetBackend>;
  bus(client: string): Promise<EventBus>;
}

export interface BuiltLedger extends BuiltService<typeof LedgerService> {
  keys: KeyStore;
}

export async function buildLedgerService(ctx: BuildContext<LedgerBackends>): Promise<BuiltLedger> {
  const db = await ctx.backends.database(LEDGER_MIGRATIONS);
  const budget = await ctx.backends.budgetStore();
  const bus = await ctx.backends.bus("llmgw-ledger");
  const keys = new KeyStore(db.sql);
  // A bootstrap admin key for scripts and first starts (LLMGW_API_KEY); never logged.
  if (ctx.settings.bootstrapApiKey) await keys.ensureBootstrapKey(ctx.settings.bootstrapApiKey);
  // Limits are cached per replica; with versions a change bumps the tenant's version and every
  // reservation checks it, so the 5 s TTL only bounds staleness when the bump itself failed.
  const limits = new BudgetLimitRepo(db.sql, 5_000, budget.versions);
  const rateLimits = new RateLimitRepo(db.sql, 5_000, budget.versions);
  const budgets = new Budgets(observedBudgetStore(budget.store, ctx.registry), new AdmissionLimits(limits, rateLimits, ctx.config.rate_limits));
  const refusals = new RefusalRecorder(db.sql, { logger: ctx.logger });
  const revocations = bus.broadcast();
  const revokedSubject = broadcastSubjects(bus.names).keyRevoked;
  // Stored first (the truth); the announcement makes every edge drop the key at once. Lost, the
  // edges' auth cache TTL still ends it.
  const access = new AccessRpcs(rateLimits, refusals, (keyId) =>
    revocations.announce(revokedSubject, encodeKeyRevoked(keyId)).catch((err: unknown) => ctx.logger.warn({ err: String(err), keyId }, "revocation not announced; edges follow within their auth cache TTL")),
  );
  // The ledger settles each reservation with the cost it recorded: one price computation, no RPC per request.
  const consumer = new LedgerConsumer({ bus, writer: new LedgerWriter(db.sql, ctx.prices), names: bus.names, logger: ctx.logger, settle: (id, usd, tokens) => budgets.settle(id, usd, tokens), onCommitted: ledgerMetrics(ctx.registry).committed, registry: ctx.registry });
  await consumer.start();
  const shadowCalls = new ShadowCallConsumer(bus, new ShadowCallWriter(db.sql, ctx.prices), ctx.logger, ctx.registry);
  // On the service's registry from the start, so /metrics lists it before the first unpriced call.
  unpricedCounter(ctx.registry);
  await shadowCalls.start();
  const responses = new ResponseStore(db.sql, ctx.config.responses.retention_seconds);
  const stopPurge = purgeEvery(ctx.config.responses.purge_interval_seconds * 1000, () => responses.purge(new Date()), ctx.logger);
  ctx.logger.info({ database: db.kind, budgets: budget.versions ? "shared" : "local" }, "ledger ready");
  return {
    service: LedgerService,
    impl: new LedgerServiceImpl(keys, budgets, new SpendReport(db.sql), limits, new ResponseRpcs(responses), access, new BatchRpcs(new BatchStore(db.sql))),
    keys,
    ready: async () => (budget.canAdmit?.() ?? true) && (await reachable(db.sql)),
    close: async () => {
      stopPurge();
      await refusals.close();
      await consumer.stop();
      await shadowCalls.stop();
    },
  };
}
