import pg from "pg";
import type { QueryOptions, SqlClient } from "./sql-client.ts";

type Queryable = { query: (config: pg.QueryConfig) => Promise<{ rows: unknown[] }> };

function wrap(q: Queryable, transaction: SqlClient["transaction"]): SqlClient {
  return {
    async query<T>(sql: string, params?: unknown[], opts?: QueryOptions) {
      // node-pg prepares a named statement once per connection.
      const r = await q.query({ text: sql, ...(params ? { values: params } : {}), ...(opts?.prepare ? { name: opts.prepare } : {}) });
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
    // A checked-out connection that dies between two queries emits 'error' with no query to reject:
    // without a listener that kills the process. The next query on it fails and the pool drops it.
    const onError = (): void => undefined;
    conn.on("error", onError);
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
      conn.off("error", onError);
      if (!released) conn.release();
    }
  });
  return client;
}

export interface PgPoolOptions {
  schema?: string;
  max?: number;
  /** Server-side statement_timeout (ms): PostgreSQL cancels a statement running longer. */
  statementTimeoutMs?: number;
  /** Client-side timeout (ms) of one query, for a stalled socket no server cancels. */
  queryTimeoutMs?: number;
  /** Time allowed to open a connection (ms). */
  connectTimeoutMs?: number;
  /** Connection errors of idle pooled clients (a server restart, a cut): logged, never fatal. */
  onError?: (err: Error) => void;
}

/**
 * pg Pool whose connections use `schema` first on the search path (test isolation, benchmarks).
 * Always has an 'error' listener: an idle client whose connection is terminated emits 'error' on the
 * pool, and an EventEmitter without a listener throws it (the ledger died of this on a PostgreSQL restart).
 */
export function createPgPool(databaseUrl: string, opts: PgPoolOptions = {}): pg.Pool {
  const options = opts.schema ? `-c search_path=${opts.schema},public` : undefined;
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: opts.max ?? 10,
    keepAlive: true,
    ...(options ? { options } : {}),
    ...(opts.statementTimeoutMs !== undefined ? { statement_timeout: opts.statementTimeoutMs } : {}),
    ...(opts.queryTimeoutMs !== undefined ? { query_timeout: opts.queryTimeoutMs } : {}),
    ...(opts.connectTimeoutMs !== undefined ? { connectionTimeoutMillis: opts.connectTimeoutMs } : {}),
  });
  pool.on("error", (err: Error) => opts.onError?.(err));
  return pool;
}
