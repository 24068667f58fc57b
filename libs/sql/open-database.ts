// The SQL backend every service that keeps rows uses: PostgreSQL in the mesh, PGlite embedded, one
// SqlClient interface; each service brings its own migrations.
import { mkdirSync } from "node:fs";
import { migrate, type MigrationSet } from "./migrate.ts";
import { createPgPool, pgSqlClient, type PgPoolOptions } from "./pg-client.ts";
import { startPgliteWorker } from "./pglite-worker-client.ts";
import type { SqlClient } from "./sql-client.ts";

export interface OpenedDatabase {
  kind: "pg" | "pglite";
  sql: SqlClient;
  /** Applies a service's pending migrations (its own folder and bookkeeping table). */
  migrate(set: MigrationSet): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens a database from a URL: `postgres://...` → PostgreSQL (pg Pool), `pglite:<dir>` (or
 * `pglite:memory`) → PGlite in a worker thread; then applies the given migration sets.
 */
export type OpenOptions = Pick<PgPoolOptions, "schema" | "max" | "statementTimeoutMs" | "queryTimeoutMs" | "connectTimeoutMs" | "onError">;

export async function openDatabase(target: string, opts: OpenOptions & { migrations?: readonly MigrationSet[] } = {}): Promise<OpenedDatabase> {
  const db = await open(target, opts);
  for (const set of opts.migrations ?? []) await db.migrate(set);
  return db;
}

async function open(target: string, opts: OpenOptions): Promise<OpenedDatabase> {
  if (target.startsWith("postgres://") || target.startsWith("postgresql://")) {
    const schema = opts.schema ? { schema: opts.schema } : {};
    const pool = createPgPool(target, { ...opts, max: opts.max ?? 10 });
    return {
      kind: "pg",
      sql: pgSqlClient(pool),
      migrate: async (set) => void (await migrate({ kind: "pg", databaseUrl: target, ...schema }, set)),
      close: () => pool.end(),
    };
  }
  if (!target.startsWith("pglite:")) throw new Error(`unsupported database url "${target}": use postgres://... or pglite:<dir>`);
  const dir = target.slice("pglite:".length);
  if (dir && dir !== "memory") mkdirSync(dir, { recursive: true });
  // In a worker thread: PostgreSQL's WASM work stays off the event loop that serves requests.
  const db = await startPgliteWorker(dir && dir !== "memory" ? dir : undefined);
  return {
    kind: "pglite",
    sql: db.sql,
    migrate: async (set) => void (await migrate({ kind: "pglite-client", client: db.migrationClient }, set)),
    close: () => db.close(),
  };
}
