// Admission refusals (a rate limit or a hard budget) recorded in the ledger's `admission_refusals`
// table. Batched: a flood of refused requests costs one INSERT per interval, not one per request,
// and the buffer is bounded (past it, refusals are only counted as dropped).
import type { SqlClient } from "#libs/sql/sql-client.ts";

export interface Refusal {
  requestId: string;
  tenantId: string;
  keyId: string;
  reason: "rate_limit" | "budget";
  limitName: string;
  retryAfterMs?: number;
  at: Date;
}

export interface RefusalLogger {
  warn(obj: object, msg: string): void;
}

export class RefusalRecorder {
  private buffer: Refusal[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  dropped = 0;

  constructor(
    private readonly sql: SqlClient,
    private readonly opts: { intervalMs?: number; maxBuffered?: number; logger?: RefusalLogger } = {},
  ) {}

  record(r: Refusal): void {
    if (this.buffer.length >= (this.opts.maxBuffered ?? 10_000)) {
      this.dropped++;
      return;
    }
    this.buffer.push(r);
    this.timer ??= setTimeout(() => void this.flush(), this.opts.intervalMs ?? 200).unref();
  }

  /** Writes what is buffered (one statement); a failed write is logged and dropped, never retried forever. */
  flush(): Promise<void> {
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    if (batch.length === 0) return this.flushing;
    this.flushing = this.flushing.then(async () => {
      const params: unknown[] = [];
      const values = batch.map((r, i) => {
        params.push(r.requestId, r.tenantId, r.keyId, r.reason, r.limitName, r.retryAfterMs ?? null, r.at.toISOString());
        const o = i * 7;
        return `($${o + 1}, $${o + 2}, $${o + 3}, $${o + 4}, $${o + 5}, $${o + 6}, $${o + 7}::timestamptz)`;
      });
      try {
        await this.sql.query(`INSERT INTO admission_refusals (request_id, tenant_id, key_id, reason, limit_name, retry_after_ms, refused_at) VALUES ${values.join(", ")}`, params);
      } catch (e) {
        this.dropped += batch.length;
        this.opts.logger?.warn({ err: e instanceof Error ? e.message : String(e), refusals: batch.length }, "admission refusals not recorded");
      }
    });
    return this.flushing;
  }

  /** Newest first; what is still buffered is written first, so a refusal just made is listed. */
  async list(q: { tenantId?: string; since?: Date; limit: number }): Promise<Refusal[]> {
    await this.flush();
    const params: unknown[] = [q.since ? q.since.toISOString() : "-infinity"];
    let where = "refused_at >= $1::timestamptz";
    if (q.tenantId) {
      params.push(q.tenantId);
      where += ` AND tenant_id = $${params.length}`;
    }
    params.push(q.limit);
    const { rows } = await this.sql.query<{ request_id: string; tenant_id: string; key_id: string; reason: Refusal["reason"]; limit_name: string; retry_after_ms: string | null; refused_at: string }>(
      `SELECT request_id, tenant_id, key_id, reason, limit_name, retry_after_ms::text, to_char(refused_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS refused_at
       FROM admission_refusals WHERE ${where} ORDER BY refused_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => ({ requestId: r.request_id, tenantId: r.tenant_id, keyId: r.key_id, reason: r.reason, limitName: r.limit_name, ...(r.retry_after_ms !== null ? { retryAfterMs: Number(r.retry_after_ms) } : {}), at: new Date(r.refused_at) }));
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.flush();
  }
}
