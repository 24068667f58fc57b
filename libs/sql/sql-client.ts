/**
 * The one database interface the ledger codes against, so the same SQL runs on PostgreSQL (pg Pool)
 * and PGlite. Conventions for portable results: cast NUMERIC to text and counts to int/bigint::text
 * in SQL, because the drivers parse those types differently.
 */
export interface SqlClient {
  query<T>(sql: string, params?: unknown[], opts?: QueryOptions): Promise<{ rows: T[] }>;
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
}

export interface QueryOptions {
  /**
   * Prepare the statement once per connection under this name and reuse it (no parse and plan per call:
   * worth it for a big statement run often). One name, one text.
   */
  prepare?: string;
}

/** The database answers (for /readyz and grpc.health). */
export async function reachable(sql: SqlClient): Promise<boolean> {
  try {
    await sql.query("SELECT 1");
    return true;
  } catch {
    return false;
  }
}
