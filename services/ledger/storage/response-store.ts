// Stored Responses API answers, per tenant, until they expire. A conversation is a chain of
// previous ids; storing a new turn extends the whole chain's expiry, so a conversation in use never
// loses its first turns while its last ones are kept.
import type { Logger } from "#libs/log/logger.ts";
import type { SqlClient } from "#libs/sql/sql-client.ts";

export interface StoredResponseRow {
  id: string;
  tenantId: string;
  previousId: string;
  model: string;
  provider: string;
  inputJson: string;
  responseJson: string;
  createdAt: string;
  expiresAt: string;
}

export interface ResponseChain {
  /** Oldest first; the last one is the response asked for. */
  chain: StoredResponseRow[];
  /** An earlier turn that is gone (deleted or expired): the conversation cannot be rebuilt. */
  missingId: string;
}

type Row = { tenant_id: string; id: string; previous_id: string; model: string; provider: string; input_json: string; response_json: string; created_at: Date | string; expires_at: Date | string };

const toRow = (r: Row): StoredResponseRow => ({
  id: r.id,
  tenantId: r.tenant_id,
  previousId: r.previous_id,
  model: r.model,
  provider: r.provider,
  inputJson: r.input_json,
  responseJson: r.response_json,
  createdAt: new Date(r.created_at).toISOString(),
  expiresAt: new Date(r.expires_at).toISOString(),
});

/** Deep enough for any agent loop; bounds a corrupt (cyclic) chain. */
const MAX_CHAIN = 10_000;

/** The chain from the response named by parameter `idParam` back to its first turn ($1 tenant, $3 now). */
const chainCte = (idParam: string): string => `
  WITH RECURSIVE chain AS (
    SELECT r.*, 0 AS depth FROM responses r WHERE r.tenant_id = $1 AND r.id = ${idParam} AND r.expires_at > $3::timestamptz
    UNION ALL
    SELECT p.*, c.depth + 1 FROM responses p JOIN chain c ON p.tenant_id = c.tenant_id AND p.id = c.previous_id
    WHERE c.previous_id <> '' AND p.expires_at > $3::timestamptz AND c.depth < ${MAX_CHAIN}
  )`;

export class ResponseStore {
  constructor(
    private readonly sql: SqlClient,
    private readonly retentionSeconds: number,
  ) {}

  /** Stores (or replaces, on a retry) one response; returns its expiry. */
  async put(r: Omit<StoredResponseRow, "createdAt" | "expiresAt">, now: Date): Promise<string> {
    const expires = new Date(now.getTime() + this.retentionSeconds * 1000).toISOString();
    await this.sql.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO responses (tenant_id, id, previous_id, model, provider, input_json, response_json, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz, $9::timestamptz)
         ON CONFLICT (tenant_id, id) DO UPDATE SET previous_id = EXCLUDED.previous_id, model = EXCLUDED.model, provider = EXCLUDED.provider,
           input_json = EXCLUDED.input_json, response_json = EXCLUDED.response_json, expires_at = EXCLUDED.expires_at`,
        [r.tenantId, r.id, r.previousId, r.model, r.provider, r.inputJson, r.responseJson, now.toISOString(), expires],
      );
      if (r.previousId) {
        await tx.query(
          `${chainCte("$2")} UPDATE responses SET expires_at = $4::timestamptz FROM chain
           WHERE responses.tenant_id = chain.tenant_id AND responses.id = chain.id AND responses.expires_at < $4::timestamptz`,
          [r.tenantId, r.previousId, now.toISOString(), expires],
        );
      }
    });
    return expires;
  }

  async get(tenantId: string, id: string, now: Date): Promise<StoredResponseRow | undefined> {
    const { rows } = await this.sql.query<Row>("SELECT * FROM responses WHERE tenant_id = $1 AND id = $2 AND expires_at > $3::timestamptz", [tenantId, id, now.toISOString()]);
    const r = rows[0];
    return r ? toRow(r) : undefined;
  }

  /** The response and every earlier turn of its conversation; undefined when the response itself is gone. */
  async chain(tenantId: string, id: string, now: Date): Promise<ResponseChain | undefined> {
    const { rows } = await this.sql.query<Row>(`${chainCte("$2")} SELECT tenant_id, id, previous_id, model, provider, input_json, response_json, created_at, expires_at FROM chain ORDER BY depth DESC`, [tenantId, id, now.toISOString()]);
    if (rows.length === 0) return undefined;
    const chain = rows.map(toRow);
    return { chain, missingId: chain[0]?.previousId ?? "" };
  }

  async delete(tenantId: string, id: string, now: Date): Promise<boolean> {
    // An expired one is deleted too, but it was already gone for the caller.
    const { rows } = await this.sql.query<{ live: boolean }>("DELETE FROM responses WHERE tenant_id = $1 AND id = $2 RETURNING expires_at > $3::timestamptz AS live", [tenantId, id, now.toISOString()]);
    return rows[0]?.live === true;
  }

  /** Deletes every expired response; returns how many. */
  async purge(now: Date): Promise<number> {
    const { rows } = await this.sql.query<{ n: string }>("WITH gone AS (DELETE FROM responses WHERE expires_at <= $1::timestamptz RETURNING 1) SELECT count(*)::text AS n FROM gone", [now.toISOString()]);
    return Number(rows[0]?.n ?? 0);
  }
}

/** Runs the purge on a timer (unref'd: it never keeps a process alive); returns the stop function. */
export function purgeEvery(ms: number, purge: () => Promise<number>, logger: Logger): () => void {
  const timer = setInterval(() => {
    purge().then(
      (n) => n > 0 && logger.info({ purged: n }, "expired responses purged"),
      (e: unknown) => logger.warn({ err: e instanceof Error ? e.message : String(e) }, "response purge failed"),
    );
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}
