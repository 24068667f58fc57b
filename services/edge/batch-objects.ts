// Ledger batch rows → OpenAI's File and Batch objects (what the openai SDK's files/batches types read).
import type { BatchFile, BatchJob } from "#libs/gen/llmgw/ledger/v1/ledger_pb.ts";

type JsonObject = Record<string, unknown>;
const time = (t: bigint): number | null => (t > 0n ? Number(t) : null);

function json(s: string): unknown {
  if (!s) return null;
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return null;
  }
}

export function fileObject(f: BatchFile): JsonObject {
  return { id: f.id, object: "file", bytes: Number(f.bytes), created_at: Number(f.createdAt), filename: f.filename, purpose: f.purpose, status: "processed", status_details: null, expires_at: null };
}

export function batchObject(j: BatchJob): JsonObject {
  return {
    id: j.id,
    object: "batch",
    endpoint: j.endpoint,
    errors: json(j.errorsJson),
    input_file_id: j.inputFileId,
    completion_window: j.completionWindow,
    status: j.status,
    output_file_id: j.outputFileId || null,
    error_file_id: j.errorFileId || null,
    created_at: Number(j.createdAt),
    in_progress_at: time(j.inProgressAt),
    expires_at: time(j.expiresAt),
    finalizing_at: time(j.finalizingAt),
    completed_at: time(j.completedAt),
    failed_at: time(j.failedAt),
    expired_at: time(j.expiredAt),
    cancelling_at: time(j.cancellingAt),
    cancelled_at: time(j.cancelledAt),
    request_counts: { total: j.total, completed: j.completed, failed: j.failed },
    metadata: json(j.metadataJson),
  };
}

/** An OpenAI list page with cursor fields. */
export function listPage(data: JsonObject[], hasMore: boolean): JsonObject {
  return { object: "list", data, first_id: (data[0]?.["id"] as string | undefined) ?? null, last_id: (data.at(-1)?.["id"] as string | undefined) ?? null, has_more: hasMore };
}
