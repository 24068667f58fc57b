// OpenAI Files + Batch API: upload JSONL, create a batch, poll it, list, cancel, download output/error JSONL.
// A batch is processed lazily on the first retrieve after `batchDelayMs` (or its metadata's sim_delay_ms; no
// timers), through the same handlers as live requests, so answers, usage and [sim:*] markers match the
// synchronous API. Per-line failures and expiries: batch-lines.ts.
import { BATCH_DELAY_MARKER, FAILED_LINE_MESSAGE, lineFate, readyAt } from "./batch-lines.ts";
import { createEmbeddings } from "./embeddings.ts";
import { isRecord, nowSec, str, type JsonRecord } from "./json-util.ts";
import { boundaryOf, parseMultipart } from "#libs/http/multipart.ts";
import { chatCompletion } from "./openai-chat.ts";
import { errorOutcome, jsonOutcome, type Outcome } from "./outcome.ts";
import type { SimState, StoredBatch, StoredFile } from "./state.ts";

const ENDPOINTS = new Set(["/v1/chat/completions", "/v1/embeddings"]);

function fileObject(f: StoredFile): JsonRecord {
  return { id: f.id, object: "file", bytes: f.bytes, created_at: f.createdAt, filename: f.filename, purpose: f.purpose, status: "processed", status_details: null, expires_at: null };
}

function notFound(what: string, id: string): Outcome {
  return errorOutcome("openai", { status: 404, message: `No ${what} found with id '${id}'.` });
}

function storeFile(state: SimState, filename: string, purpose: string, content: Buffer): StoredFile {
  const f: StoredFile = { id: state.nextId("file-"), filename, purpose, bytes: content.length, createdAt: nowSec(), content };
  state.files.set(f.id, f);
  return f;
}

export function uploadFile(state: SimState, body: Buffer, contentType: string | undefined): Outcome {
  const boundary = boundaryOf(contentType);
  if (boundary === undefined) return errorOutcome("openai", { status: 400, message: "Expected multipart/form-data with a file" });
  const parts = parseMultipart(body, boundary);
  const file = parts.find((p) => p.name === "file");
  const purpose = parts.find((p) => p.name === "purpose")?.data.toString("utf8");
  if (file === undefined) return errorOutcome("openai", { status: 400, message: "Missing 'file' field", param: "file" });
  if (purpose === undefined) return errorOutcome("openai", { status: 400, message: "Missing 'purpose' field", param: "purpose" });
  const f = storeFile(state, file.filename ?? "upload.jsonl", purpose, Buffer.from(file.data));
  return jsonOutcome(JSON.stringify(fileObject(f)));
}

export function getFile(state: SimState, id: string): Outcome {
  const f = state.files.get(id);
  return f === undefined ? notFound("file", id) : jsonOutcome(JSON.stringify(fileObject(f)));
}

export function getFileContent(state: SimState, id: string): Outcome {
  const f = state.files.get(id);
  if (f === undefined) return notFound("file", id);
  return { kind: "json", status: 200, body: f.content.toString("utf8"), contentType: "application/octet-stream", outputTokens: 0, extraDelayMs: 0 };
}

/** The input file's text when it holds a delay marker (decoding a large file only when it matters). */
function delayMarkerText(f: StoredFile | undefined): string {
  return f !== undefined && f.content.includes(BATCH_DELAY_MARKER) ? f.content.toString("utf8") : "";
}

export function createBatch(state: SimState, body: JsonRecord): Outcome {
  const inputFileId = str(body["input_file_id"]);
  const endpoint = str(body["endpoint"]);
  if (inputFileId === undefined || !state.files.has(inputFileId)) {
    return errorOutcome("openai", { status: 400, message: `Invalid 'input_file_id': '${inputFileId ?? ""}'.`, param: "input_file_id" });
  }
  if (endpoint === undefined || !ENDPOINTS.has(endpoint)) {
    return errorOutcome("openai", { status: 400, message: `Unsupported endpoint '${endpoint ?? ""}'.`, param: "endpoint" });
  }
  const metadata = isRecord(body["metadata"]) ? (body["metadata"] as Record<string, string>) : null;
  const batch: StoredBatch = {
    id: state.nextId("batch_"),
    endpoint,
    inputFileId,
    completionWindow: str(body["completion_window"]) ?? "24h",
    metadata,
    createdAt: nowSec(),
    readyAtMs: readyAt(state, metadata, delayMarkerText(state.files.get(inputFileId))),
    cancelled: false,
  };
  state.batches.set(batch.id, batch);
  return jsonOutcome(JSON.stringify(batchObject(batch, "validating")));
}

function runLine(state: SimState, endpoint: string, line: JsonRecord): Outcome {
  const body = line["body"];
  if (!isRecord(body)) return errorOutcome("openai", { status: 400, message: "Missing request body" });
  if (str(line["url"]) !== endpoint) return errorOutcome("openai", { status: 400, message: `url must be ${endpoint}` });
  return endpoint === "/v1/embeddings" ? createEmbeddings(state, body) : chatCompletion(state, body, false);
}

function runBatch(state: SimState, batch: StoredBatch): void {
  const input = state.files.get(batch.inputFileId)?.content.toString("utf8") ?? "";
  const out: string[] = [];
  const errs: string[] = [];
  let total = 0;
  let expired = false;
  for (const raw of input.split("\n")) {
    const text = raw.trim();
    if (text.length === 0) continue;
    total++;
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch {
      line = undefined;
    }
    const customId = isRecord(line) ? (str(line["custom_id"]) ?? null) : null;
    const fate = lineFate(state, customId ?? "", text);
    if (fate === "expire") {
      expired = true;
      // OpenAI's shape for a line the batch never ran: no response, an error with code batch_expired.
      const message = "This request could not be executed before the completion window expired.";
      errs.push(JSON.stringify({ id: state.nextId("batch_req_"), custom_id: customId, response: null, error: { code: "batch_expired", message } }));
      continue;
    }
    const outcome: Outcome =
      fate === "fail"
        ? errorOutcome("openai", { status: 500, message: FAILED_LINE_MESSAGE })
        : isRecord(line)
          ? runLine(state, batch.endpoint, line)
          : errorOutcome("openai", { status: 400, message: "Invalid JSON line" });
    const status = outcome.kind === "json" ? outcome.status : 504;
    const resBody: unknown = outcome.kind === "json" ? JSON.parse(outcome.body) : { error: { message: "Request timed out (simulated).", type: "server_error", param: null, code: "timeout" } };
    const record = JSON.stringify({ id: state.nextId("batch_req_"), custom_id: customId, response: { status_code: status, request_id: state.nextId("req_"), body: resBody }, error: null });
    (status === 200 ? out : errs).push(record);
  }
  const outputFile = out.length > 0 ? storeFile(state, "batch_output.jsonl", "batch_output", Buffer.from(`${out.join("\n")}\n`)) : undefined;
  const errorFile = errs.length > 0 ? storeFile(state, "batch_errors.jsonl", "batch_output", Buffer.from(`${errs.join("\n")}\n`)) : undefined;
  batch.result = {
    outputFileId: outputFile?.id ?? null,
    errorFileId: errorFile?.id ?? null,
    total,
    completed: out.length,
    failed: errs.length,
    completedAt: nowSec(),
    expired,
  };
}

function batchObject(b: StoredBatch, status: string): JsonRecord {
  const r = b.result;
  const done = status === "completed" || status === "expired";
  return {
    id: b.id,
    object: "batch",
    endpoint: b.endpoint,
    errors: null,
    input_file_id: b.inputFileId,
    completion_window: b.completionWindow,
    status,
    output_file_id: r?.outputFileId ?? null,
    error_file_id: r?.errorFileId ?? null,
    created_at: b.createdAt,
    in_progress_at: status === "validating" ? null : b.createdAt,
    expires_at: b.createdAt + 86_400,
    finalizing_at: done ? (r?.completedAt ?? null) : null,
    completed_at: done ? (r?.completedAt ?? null) : null,
    failed_at: null,
    expired_at: status === "expired" ? (r?.completedAt ?? null) : null,
    cancelling_at: b.cancelled ? b.createdAt : null,
    cancelled_at: b.cancelled ? b.createdAt : null,
    request_counts: { total: r?.total ?? 0, completed: r?.completed ?? 0, failed: r?.failed ?? 0 },
    metadata: b.metadata,
  };
}

function currentStatus(state: SimState, b: StoredBatch): string {
  if (b.cancelled) return "cancelled";
  if (b.result === undefined && Date.now() >= b.readyAtMs) runBatch(state, b);
  if (b.result === undefined) return "in_progress";
  return b.result.expired ? "expired" : "completed";
}

export function getBatch(state: SimState, id: string): Outcome {
  const b = state.batches.get(id);
  return b === undefined ? notFound("batch", id) : jsonOutcome(JSON.stringify(batchObject(b, currentStatus(state, b))));
}

export function cancelBatch(state: SimState, id: string): Outcome {
  const b = state.batches.get(id);
  if (b === undefined) return notFound("batch", id);
  if (b.result === undefined) b.cancelled = true;
  return jsonOutcome(JSON.stringify(batchObject(b, currentStatus(state, b))));
}

/** GET /v1/batches?after=&limit=: newest first, cursor = the last id of the previous page (limit 1..100, default 20). */
export function listBatches(state: SimState, query: URLSearchParams = new URLSearchParams()): Outcome {
  const all = [...state.batches.values()].reverse();
  const after = query.get("after");
  const start = after !== null ? all.findIndex((b) => b.id === after) + 1 : 0;
  if (after !== null && start === 0) return notFound("batch", after);
  const limitRaw = Number(query.get("limit") ?? "20");
  const limit = Number.isInteger(limitRaw) ? Math.min(100, Math.max(1, limitRaw)) : 20;
  const page = all.slice(start, start + limit);
  const data = page.map((b) => batchObject(b, currentStatus(state, b)));
  return jsonOutcome(JSON.stringify({ object: "list", data, first_id: data[0]?.["id"] ?? null, last_id: data[data.length - 1]?.["id"] ?? null, has_more: start + limit < all.length }));
}
