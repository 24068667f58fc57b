import pg from "pg";
import type { SqlClient } from "./sql-client.ts";

type Queryable = { query: (text: string, values?: unknown[]) => Promise<{ rows: unknown[] }> };

function wrap(q: Queryable, transaction: SqlClient["transaction"]): SqlClient {
  return {
    async query<T>(sql: string, params?: unknown[]) {
      const r = await q.query(sql, params);
      return { rows: r.rows as T[] };
    },
    transaction,
  };
}

/** SqlClient over a pg Pool: each transaction takes one pooled connection. */
export function pgSqlClient(pool: pg.Pool): SqlClient {
  const client: SqlClient = wrap(pool, async (fn) => {
    const conn = await pool.connect();
    let released = false;
    try {
      await conn.query("BEGIN");
      // Nested transaction() calls reuse the open one.
      const tx: SqlClient = wrap(conn, (inner) => inner(tx));
      const out = await fn(tx);
      await conn.query("COMMIT");
      return out;
    } catch (err) {
      try {
        await conn.query("ROLLBACK");
      } catch {
        conn.release(true);
        released = true;
      }
      throw err;
    } finally {
      if (!released) conn.release();
    }
  });
  return client;
}

/** pg Pool whose connections use `schema` first on the search path (test isolation, benchmarks). */
export function createPgPool(databaseUrl: string, opts: { schema?: string; max?: number } = {}): pg.Pool {
  const options = opts.schema ? `-c search_path=${opts.schema},public` : undefined;
  return new pg.Pool({ connectionString: databaseUrl, max: opts.max ?? 10, ...(options ? { options } : {}) });
}
