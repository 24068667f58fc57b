import { mkdirSync } from "node:fs";
import { migrate } from "./migrate.ts";
import { createPgPool, pgSqlClient } from "./pg-client.ts";
import { pgliteSqlClient } from "./pglite-client.ts";
import { openPglite } from "./pglite-open.ts";
import type { SqlClient } from "./sql-client.ts";

export const DEFAULT_PGLITE_DIR = "./data/ledger";

export interface OpenedDatabase {
  kind: "pg" | "pglite";
  sql: SqlClient;
  close(): Promise<void>;
}

/**
 * Opens the ledger database from a URL: `postgres://...` → PostgreSQL (pg Pool), `pglite:<dir>`
 * (or `pglite:memory`) → PGlite. Default: PGlite in ./data/ledger.
 * Runs pending migrations unless `migrate: false`.
 */
export async function openDatabase(url?: string, opts: { schema?: string; migrate?: boolean; max?: number } = {}): Promise<OpenedDatabase> {
  const target = url ?? `pglite:${DEFAULT_PGLITE_DIR}`;
  if (target.startsWith("postgres://") || target.startsWith("postgresql://")) {
    if (opts.migrate !== false) await migrate({ kind: "pg", databaseUrl: target, ...(opts.schema ? { schema: opts.schema } : {}) });
    const pool = createPgPool(target, { ...(opts.schema ? { schema: opts.schema } : {}), max: opts.max ?? 10 });
    return { kind: "pg", sql: pgSqlClient(pool), close: () => pool.end() };
  }
  if (!target.startsWith("pglite:")) throw new Error(`unsupported database url "${target}": use postgres://... or pglite:<dir>`);
  const dir = target.slice("pglite:".length);
  if (dir && dir !== "memory") mkdirSync(dir, { recursive: true });
  const db = await openPglite(dir && dir !== "memory" ? dir : undefined);
  if (opts.migrate !== false) await migrate({ kind: "pglite", db });
  return { kind: "pglite", sql: pgliteSqlClient(db), close: () => db.close() };
}
