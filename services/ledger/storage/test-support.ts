// Helpers for tests and benchmarks: isolated databases and event builders (no mocks: real pg / PGlite).
import { LEDGER_MIGRATIONS } from "./migrations.ts";
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import pg from "pg";
import { RequestContextSchema, Tier } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { ProviderCallSchema, RequestCompletedSchema, type RequestCompleted } from "#libs/gen/llmgw/events/v1/events_pb.ts";
import { toProtoUsage, usage, type UsageCounts } from "#libs/pricing/usage-types.ts";
import { migrate } from "#libs/sql/migrate.ts";
import { createPgPool, pgSqlClient } from "#libs/sql/pg-client.ts";
import { openDatabase } from "#libs/sql/open-database.ts";
import type { SqlClient } from "#libs/sql/sql-client.ts";

export const TEST_DATABASE_URL = process.env.LLMGW_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export interface TestDb {
  kind: "pg" | "pglite";
  sql: SqlClient;
  close(): Promise<void>;
}

export const uniqueId = (prefix: string): string => `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;

/** A migrated, isolated database: a unique schema on the real PostgreSQL, or an in-memory PGlite. */
export async function openTestDb(kind: "pg" | "pglite"): Promise<TestDb> {
  if (kind === "pglite") {
    // As the embedded gateway opens it: PGlite in its worker thread.
    const db = await openDatabase("pglite:memory", { migrations: [LEDGER_MIGRATIONS] });
    return { kind, sql: db.sql, close: () => db.close() };
  }
  const schema = uniqueId("ledger_test");
  await migrate({ kind: "pg", databaseUrl: TEST_DATABASE_URL, schema }, LEDGER_MIGRATIONS);
  const pool = createPgPool(TEST_DATABASE_URL, { schema, max: 5 });
  return {
    kind,
    sql: pgSqlClient(pool),
    async close() {
      await pool.end();
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    },
  };
}

export interface CallSpec {
  kind?: string;
  model: string;
  provider?: string;
  usage: Partial<UsageCounts>;
  status?: string;
  startedAt?: string;
}

export interface EventSpec {
  requestId: string;
  tenantId?: string;
  keyId?: string;
  completedAt?: string;
  model?: string;
  baselineModel?: string;
  category?: string;
  tier?: Tier;
  cacheOutcome?: string;
  cascaded?: boolean;
  escalated?: boolean;
  stream?: boolean;
  batch?: boolean;
  calls?: CallSpec[];
  answerUsage?: Partial<UsageCounts>;
}

export function makeEvent(s: EventSpec): RequestCompleted {
  const completedAt = s.completedAt ?? "2025-10-15T12:00:00.000Z";
  return create(RequestCompletedSchema, {
    context: create(RequestContextSchema, { requestId: s.requestId, tenantId: s.tenantId ?? "t1", keyId: s.keyId ?? "k1", traceId: "trace" }),
    receivedAt: completedAt,
    completedAt,
    requestedModel: "auto",
    tier: s.tier ?? Tier.MEDIUM,
    category: s.category ?? "general",
    confidence: 0.9,
    model: s.model ?? s.calls?.[s.calls.length - 1]?.model ?? "",
    provider: "openai",
    cacheOutcome: s.cacheOutcome ?? "miss",
    cascaded: s.cascaded ?? false,
    escalated: s.escalated ?? false,
    httpStatus: 200,
    latencyMs: 123n,
    overheadMs: 1.5,
    stream: s.stream ?? false,
    batch: s.batch ?? false,
    baselineModel: s.baselineModel ?? "gpt-4o",
    calls: (s.calls ?? []).map((c, i) =>
      create(ProviderCallSchema, {
        callId: `${s.requestId}-c${i}`,
        kind: c.kind ?? "primary",
        model: c.model,
        provider: c.provider ?? "openai",
        status: c.status ?? "ok",
        latencyMs: 100n,
        usage: toProtoUsage(usage(c.usage)),
        startedAt: c.startedAt ?? completedAt,
      }),
    ),
    answerUsage: toProtoUsage(usage(s.answerUsage ?? s.calls?.[s.calls.length - 1]?.usage ?? {})),
  });
}
