// The Batches API's tables (migration 1764900000000_batches.sql): files, batches, lines, sub-batches
// and named leases. Tenant scoping is in every read a client can reach: another tenant's id is not found.
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { BatchFileSchema, BatchJobSchema, BatchLineSchema, SubBatchSchema } from "#libs/gen/llmgw/ledger/v1/ledger_pb.ts";
import type { SqlClient } from "#libs/sql/sql-client.ts";

export type BatchFileRow = MessageInitShape<typeof BatchFileSchema>;
export type BatchJobRow = MessageInitShape<typeof BatchJobSchema>;
export type BatchLineRow = MessageInitShape<typeof BatchLineSchema>;
export type SubBatchRow = MessageInitShape<typeof SubBatchSchema>;

export const ACTIVE_STATUSES = ["validating", "in_progress", "finalizing", "cancelling"] as const;
export const FINAL_LINE_STATES = ["succeeded", "failed"] as const;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const num = (v: unknown): number => Number(v ?? 0);
const bigint = (v: unknown): bigint => BigInt(String(v ?? 0));

type FileDb = { id: string; tenant_id: string; filename: string; purpose: string; bytes: string | number; created_at: string | number; content?: Uint8Array };
const fileOf = (r: FileDb): BatchFileRow => ({
  id: r.id,
  tenantId: r.tenant_id,
  filename: r.filename,
  purpose: r.purpose,
  bytes: bigint(r.bytes),
  createdAt: bigint(r.created_at),
  ...(r.content ? { content: new Uint8Array(r.content) } : {}),
});

const JOB_TIMES = ["created_at", "in_progress_at", "finalizing_at", "completed_at", "failed_at", "expired_at", "cancelling_at", "cancelled_at", "expires_at"] as const;
type JobDb = Record<string, unknown> & { id: string };
const jobOf = (r: JobDb): BatchJobRow => ({
  id: r.id,
  tenantId: String(r["tenant_id"]),
  keyId: String(r["key_id"]),
  inputFileId: String(r["input_file_id"]),
  endpoint: String(r["endpoint"]),
  completionWindow: String(r["completion_window"]),
  status: String(r["status"]),
  outputFileId: String(r["output_file_id"]),
  errorFileId: String(r["error_file_id"]),
  total: num(r["total"]),
  completed: num(r["completed"]),
  failed: num(r["failed"]),
  createdAt: bigint(r["created_at"]),
  inProgressAt: bigint(r["in_progress_at"]),
  finalizingAt: bigint(r["finalizing_at"]),
  completedAt: bigint(r["completed_at"]),
  failedAt: bigint(r["failed_at"]),
  expiredAt: bigint(r["expired_at"]),
  cancellingAt: bigint(r["cancelling_at"]),
  cancelledAt: bigint(r["cancelled_at"]),
  expiresAt: bigint(r["expires_at"]),
  metadataJson: String(r["metadata_json"]),
  errorsJson: String(r["errors_json"]),
  reservedUsd: String(r["reserved_usd"]),
});

// Counts derived from the lines, so request_counts can never disagree with them.
const JOB_SELECT = `SELECT j.*,
  (SELECT count(*) FROM batch_lines l WHERE l.batch_id = j.id) AS total,
  (SELECT count(*) FROM batch_lines l WHERE l.batch_id = j.id AND l.state = 'succeeded') AS completed,
  (SELECT count(*) FROM batch_lines l WHERE l.batch_id = j.id AND l.state = 'failed') AS failed
  FROM batch_jobs j`;

type LineDb = Record<string, unknown>;
const lineOf = (r: LineDb, body: boolean, result: boolean): BatchLineRow => ({
  index: num(r["idx"]),
  customId: String(r["custom_id"]),
  ...(body ? { bodyJson: encoder.encode(String(r["body_json"])) } : {}),
  requestedModel: String(r["requested_model"]),
  state: String(r["state"]),
  model: String(r["model"]),
  provider: String(r["provider"]),
  subBatchKey: String(r["sub_batch_key"]),
  category: String(r["category"]),
  tier: num(r["tier"]),
  ...(result ? { resultJson: encoder.encode(String(r["result_json"])) } : {}),
  statusCode: num(r["status_code"]),
  errorCode: String(r["error_code"]),
  costUsd: String(r["cost_usd"]),
  cached: r["cached"] === true,
});

export class BatchStore {
  constructor(private readonly sql: SqlClient) {}

  async putFile(f: { id: string; tenantId: string; filename: string; purpose: string; createdAt: number; content: Uint8Array }): Promise<BatchFileRow> {
    await this.sql.query(
      `INSERT INTO batch_files (id, tenant_id, filename, purpose, bytes, created_at, content) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (id) DO NOTHING`,
      [f.id, f.tenantId, f.filename, f.purpose, f.content.length, f.createdAt, f.content],
    );
    return { id: f.id, tenantId: f.tenantId, filename: f.filename, purpose: f.purpose, bytes: BigInt(f.content.length), createdAt: BigInt(f.createdAt) };
  }

  async getFile(tenantId: string, id: string, withContent: boolean): Promise<BatchFileRow | undefined> {
    const cols = `id, tenant_id, filename, purpose, bytes, created_at${withContent ? ", content" : ""}`;
    const r = await this.sql.query<FileDb>(`SELECT ${cols} FROM batch_files WHERE id = $1 AND tenant_id = $2 AND NOT deleted`, [id, tenantId]);
    return r.rows[0] ? fileOf(r.rows[0]) : undefined;
  }

  async listFiles(tenantId: string, after: string, limit: number, purpose: string): Promise<{ files: BatchFileRow[]; hasMore: boolean }> {
    const r = await this.sql.query<FileDb>(
      `SELECT id, tenant_id, filename, purpose, bytes, created_at FROM batch_files
       WHERE tenant_id = $1 AND NOT deleted AND ($2 = '' OR purpose = $2)
         AND ($3 = '' OR seq < (SELECT seq FROM batch_files WHERE id = $3 AND tenant_id = $1))
       ORDER BY seq DESC LIMIT $4`,
      [tenantId, purpose, after, limit + 1],
    );
    return { files: r.rows.slice(0, limit).map(fileOf), hasMore: r.rows.length > limit };
  }

  /** Content is dropped; the row stays (a batch may still name the file). */
  async deleteFile(tenantId: string, id: string): Promise<boolean> {
    const r = await this.sql.query<{ id: string }>(`UPDATE batch_files SET deleted = true, content = ''::bytea WHERE id = $1 AND tenant_id = $2 AND NOT deleted RETURNING id`, [id, tenantId]);
    return r.rows.length > 0;
  }

  async createJob(j: BatchJobRow & { id: string }, lines: readonly BatchLineRow[]): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO batch_jobs (id, tenant_id, key_id, input_file_id, endpoint, completion_window, status, created_at, expires_at, metadata_json, reserved_usd)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [j.id, j.tenantId, j.keyId ?? "", j.inputFileId, j.endpoint, j.completionWindow, j.status, String(j.createdAt ?? 0), String(j.expiresAt ?? 0), j.metadataJson ?? "", j.reservedUsd ?? ""],
      );
      const CHUNK = 500;
      for (let i = 0; i < lines.length; i += CHUNK) {
        const part = lines.slice(i, i + CHUNK);
        await tx.query(
          `INSERT INTO batch_lines (batch_id, idx, custom_id, body_json, requested_model)
           SELECT $1, u.idx, u.cid, u.body, u.req FROM unnest($2::int[], $3::text[], $4::text[], $5::text[]) AS u(idx, cid, body, req)`,
          [j.id, part.map((l) => l.index ?? 0), part.map((l) => l.customId ?? ""), part.map((l) => decoder.decode(l.bodyJson)), part.map((l) => l.requestedModel ?? "")],
        );
      }
    });
  }

  async getJob(tenantId: string, id: string): Promise<BatchJobRow | undefined> {
    const r = await this.sql.query<JobDb>(`${JOB_SELECT} WHERE j.id = $1 AND ($2 = '' OR j.tenant_id = $2)`, [id, tenantId]);
    return r.rows[0] ? jobOf(r.rows[0]) : undefined;
  }

  async listJobs(tenantId: string, after: string, limit: number, activeOnly: boolean): Promise<{ jobs: BatchJobRow[]; hasMore: boolean }> {
    const r = await this.sql.query<JobDb>(
      `${JOB_SELECT} WHERE ($1 = '' OR j.tenant_id = $1) AND (NOT $2 OR j.status = ANY($3::text[]))
         AND ($4 = '' OR j.seq < (SELECT seq FROM batch_jobs WHERE id = $4 AND ($1 = '' OR tenant_id = $1)))
       ORDER BY j.seq DESC LIMIT $5`,
      [tenantId, activeOnly, [...ACTIVE_STATUSES], after, limit + 1],
    );
    return { jobs: r.rows.slice(0, limit).map(jobOf), hasMore: r.rows.length > limit };
  }

  /** Compare-and-set on status. */
  async updateJob(j: BatchJobRow & { id: string }, expected: readonly string[]): Promise<{ updated: boolean; job: BatchJobRow | undefined }> {
    const times = JOB_TIMES.filter((t) => t !== "created_at" && t !== "expires_at");
    const camel = (s: string) => s.replace(/_(\w)/g, (_m, c: string) => c.toUpperCase()) as keyof BatchJobRow;
    const sets = times.map((t, i) => `${t} = GREATEST(${t}, $${i + 6}::bigint)`).join(", ");
    const r = await this.sql.query<{ id: string }>(
      `UPDATE batch_jobs SET status = $2, output_file_id = COALESCE(NULLIF($3, ''), output_file_id), error_file_id = COALESCE(NULLIF($4, ''), error_file_id),
         errors_json = COALESCE(NULLIF($5, ''), errors_json), ${sets}
       WHERE id = $1 AND (cardinality($${times.length + 6}::text[]) = 0 OR status = ANY($${times.length + 6}::text[])) RETURNING id`,
      [j.id, j.status ?? "", j.outputFileId ?? "", j.errorFileId ?? "", j.errorsJson ?? "", ...times.map((t) => String(j[camel(t)] ?? 0)), [...expected]],
    );
    return { updated: r.rows.length > 0, job: await this.getJob("", j.id) };
  }

  async getLines(batchId: string, fromIndex: number, limit: number, states: readonly string[], body: boolean, result: boolean): Promise<BatchLineRow[]> {
    const r = await this.sql.query<LineDb>(
      `SELECT * FROM batch_lines WHERE batch_id = $1 AND idx >= $2 AND (cardinality($3::text[]) = 0 OR state = ANY($3::text[])) ORDER BY idx LIMIT $4`,
      [batchId, fromIndex, [...states], limit],
    );
    return r.rows.map((row) => lineOf(row, body, result));
  }

  /** Empty fields keep what is stored; final lines are left alone (a result is written once). */
  async updateLines(batchId: string, lines: readonly BatchLineRow[]): Promise<number> {
    if (lines.length === 0) return 0;
    const col = <T>(f: (l: BatchLineRow) => T) => lines.map(f);
    const r = await this.sql.query<{ idx: number }>(
      `UPDATE batch_lines l SET
         state = COALESCE(NULLIF(u.state, ''), l.state), model = COALESCE(NULLIF(u.model, ''), l.model),
         provider = COALESCE(NULLIF(u.provider, ''), l.provider), sub_batch_key = COALESCE(NULLIF(u.sbk, ''), l.sub_batch_key),
         category = COALESCE(NULLIF(u.category, ''), l.category), tier = CASE WHEN u.tier = 0 THEN l.tier ELSE u.tier END,
         result_json = COALESCE(NULLIF(u.result, ''), l.result_json), status_code = CASE WHEN u.status = 0 THEN l.status_code ELSE u.status END,
         error_code = COALESCE(NULLIF(u.err, ''), l.error_code), cost_usd = COALESCE(NULLIF(u.cost, ''), l.cost_usd), cached = l.cached OR u.cached
       FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::text[], $10::int[], $11::text[], $12::text[], $13::bool[])
         AS u(idx, state, model, provider, sbk, category, tier, result, status, err, cost, cached)
       WHERE l.batch_id = $1 AND l.idx = u.idx AND l.state NOT IN ('succeeded', 'failed') RETURNING l.idx`,
      [
        batchId,
        col((l) => l.index ?? 0),
        col((l) => l.state ?? ""),
        col((l) => l.model ?? ""),
        col((l) => l.provider ?? ""),
        col((l) => l.subBatchKey ?? ""),
        col((l) => l.category ?? ""),
        col((l) => l.tier ?? 0),
        col((l) => (l.resultJson ? decoder.decode(l.resultJson) : "")),
        col((l) => l.statusCode ?? 0),
        col((l) => l.errorCode ?? ""),
        col((l) => l.costUsd ?? ""),
        col((l) => l.cached === true),
      ],
    );
    return r.rows.length;
  }

  async putSubBatch(s: SubBatchRow): Promise<void> {
    await this.sql.query(
      `INSERT INTO batch_sub_batches (batch_id, key, model, provider, state, provider_batch_id) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (batch_id, key) DO UPDATE SET provider = COALESCE(NULLIF(EXCLUDED.provider, ''), batch_sub_batches.provider), state = EXCLUDED.state,
         provider_batch_id = COALESCE(NULLIF(EXCLUDED.provider_batch_id, ''), batch_sub_batches.provider_batch_id)`,
      [s.batchId, s.key, s.model, s.provider ?? "", s.state, s.providerBatchId ?? ""],
    );
  }

  async listSubBatches(batchId: string): Promise<SubBatchRow[]> {
    const r = await this.sql.query<{ batch_id: string; key: string; model: string; provider: string; state: string; provider_batch_id: string }>(
      `SELECT * FROM batch_sub_batches WHERE batch_id = $1 ORDER BY key`,
      [batchId],
    );
    return r.rows.map((x) => ({ batchId: x.batch_id, key: x.key, model: x.model, provider: x.provider, state: x.state, providerBatchId: x.provider_batch_id }));
  }

  /** Acquire (free or expired), renew (same holder) or release; returns the holder afterwards. */
  async lease(name: string, holder: string, ttlMs: number, release: boolean, now: Date): Promise<string> {
    if (release) {
      await this.sql.query(`DELETE FROM leases WHERE name = $1 AND holder = $2`, [name, holder]);
      return "";
    }
    const expires = new Date(now.getTime() + ttlMs).toISOString();
    await this.sql.query(
      `INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3::timestamptz)
       ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
       WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < $4::timestamptz`,
      [name, holder, expires, now.toISOString()],
    );
    const r = await this.sql.query<{ holder: string }>(`SELECT holder FROM leases WHERE name = $1`, [name]);
    return r.rows[0]?.holder ?? "";
  }
}
