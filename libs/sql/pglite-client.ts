import type { PGlite, Transaction } from "@electric-sql/pglite";
import { queryPrepared } from "./pglite-prepared.ts";
import type { QueryOptions, SqlClient } from "./sql-client.ts";

type PgliteQueryable = Pick<PGlite, "query" | "exec"> | Transaction;

function wrap(db: PGlite, q: PgliteQueryable, inTransaction: boolean, transaction: SqlClient["transaction"]): SqlClient {
  return {
    async query<T>(sql: string, params?: unknown[], opts?: QueryOptions) {
      const name = opts?.prepare;
      if (name === undefined) return { rows: (await q.query<T>(sql, params)).rows };
      // The locks query() takes: a transaction's own statements only wait for the query lock.
      const run = (): Promise<T[]> => db._runExclusiveQuery(() => queryPrepared<T>(db, name, sql, params ?? [], inTransaction));
      return { rows: await (inTransaction ? run() : db._runExclusiveTransaction(run)) };
    },
    transaction,
  };
}

/** SqlClient over PGlite (embedded mode). PGlite serialises transactions itself. */
export function pgliteSqlClient(db: PGlite): SqlClient {
  return wrap(db, db, false, (fn) =>
    db.transaction(async (t) => {
      const tx: SqlClient = wrap(db, t, true, (inner) => inner(tx));
      return fn(tx);
    }),
  );
}
