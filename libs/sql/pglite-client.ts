import type { PGlite, Transaction } from "@electric-sql/pglite";
import type { SqlClient } from "./sql-client.ts";

type PgliteQueryable = Pick<PGlite, "query" | "exec"> | Transaction;

function wrap(q: PgliteQueryable, transaction: SqlClient["transaction"]): SqlClient {
  return {
    async query<T>(sql: string, params?: unknown[]) {
      const r = await q.query<T>(sql, params);
      return { rows: r.rows };
    },
    transaction,
  };
}

/** SqlClient over PGlite (embedded mode). PGlite serialises transactions itself. */
export function pgliteSqlClient(db: PGlite): SqlClient {
  return wrap(db, (fn) =>
    db.transaction(async (t) => {
      const tx: SqlClient = wrap(t, (inner) => inner(tx));
      return fn(tx);
    }),
  );
}

/**
 * The minimal pg-client shape node-pg-migrate's `dbClient` needs. Queries without parameters go
 * through `exec` because a migration file holds several statements (the extended protocol used
 * by `query` accepts only one).
 */
export function pgliteMigrationClient(db: PGlite): { query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> } {
  return {
    async query(text: string, values?: unknown[]) {
      if (values && values.length > 0) return { rows: (await db.query(text, values)).rows };
      const results = await db.exec(text);
      const last = results[results.length - 1];
      return { rows: last ? last.rows : [] };
    },
  };
}
