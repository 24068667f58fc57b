// Reading a mesh ledger's PostgreSQL schema from a test. NUMERIC and int8 columns arrive as
// strings (node-pg's default), so money stays exact.
import pg from "pg";

export const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

export interface RequestRow {
  request_id: string;
  tenant_id: string;
  model: string;
  cost_usd: string;
  unpriced: boolean;
  cascaded: boolean;
  escalated: boolean;
  stream: boolean;
  usage_estimated: boolean;
  http_status: number;
  input_tokens: string;
  cached_input_tokens: string;
  cache_write_5m_tokens: string;
  cache_write_1h_tokens: string;
  output_tokens: string;
  reasoning_tokens: string;
}

export interface CallRow {
  request_id: string;
  call_id: string;
  kind: string;
  billed: boolean;
  model: string;
  status: string;
  cost_usd: string | null;
  unpriced: boolean;
  input_tokens: string;
  cached_input_tokens: string;
  cache_write_5m_tokens: string;
  cache_write_1h_tokens: string;
  output_tokens: string;
  reasoning_tokens: string;
}

export class LedgerDb {
  private constructor(
    private readonly client: pg.Client,
    readonly schema: string,
  ) {}

  static async open(schema: string): Promise<LedgerDb> {
    if (!/^\w+$/.test(schema)) throw new Error(`unexpected schema name ${schema}`);
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    return new LedgerDb(client, schema);
  }

  async requests(ids: readonly string[]): Promise<RequestRow[]> {
    const { rows } = await this.client.query<RequestRow>(`SELECT * FROM "${this.schema}".requests WHERE request_id = ANY($1::text[])`, [ids]);
    return rows;
  }

  async requestsOfTenant(tenantId: string): Promise<RequestRow[]> {
    const { rows } = await this.client.query<RequestRow>(`SELECT * FROM "${this.schema}".requests WHERE tenant_id = $1`, [tenantId]);
    return rows;
  }

  async calls(ids: readonly string[]): Promise<CallRow[]> {
    const { rows } = await this.client.query<CallRow>(`SELECT * FROM "${this.schema}".calls WHERE request_id = ANY($1::text[]) ORDER BY request_id, call_id`, [ids]);
    return rows;
  }

  /** Exact sum of cost_usd over rows, as PostgreSQL adds NUMERIC. */
  async sumCost(ids: readonly string[]): Promise<string> {
    const { rows } = await this.client.query<{ s: string | null }>(`SELECT sum(cost_usd)::text AS s FROM "${this.schema}".requests WHERE request_id = ANY($1::text[])`, [ids]);
    return rows[0]?.s ?? "0";
  }

  /** Polls until every id has a requests row (the ledger consumes asynchronously), or throws. */
  async waitForRequests(ids: readonly string[], timeoutMs = 20_000): Promise<RequestRow[]> {
    return this.waitFor(() => this.requests(ids), (rows) => rows.length === new Set(ids).size, timeoutMs, `${ids.length} ledger rows`);
  }

  async waitForTenantRows(tenantId: string, count: number, timeoutMs = 20_000): Promise<RequestRow[]> {
    return this.waitFor(() => this.requestsOfTenant(tenantId), (rows) => rows.length >= count, timeoutMs, `${count} ledger rows of ${tenantId}`);
  }

  /** Polls until at least `count` call rows of these requests match `pick`. */
  async waitForCalls(ids: readonly string[], pick: (c: CallRow) => boolean, count: number, timeoutMs = 20_000): Promise<CallRow[]> {
    return this.waitFor(async () => (await this.calls(ids)).filter(pick), (rows) => rows.length >= count, timeoutMs, `${count} matching call rows`);
  }

  private async waitFor<T extends unknown[]>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last = await read();
    while (!done(last)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (have ${last.length})`);
      await new Promise((r) => setTimeout(r, 100));
      last = await read();
    }
    return last;
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}
