// Anthropic Message Batches API: POST /v1/messages/batches, GET /v1/messages/batches[/:id[/results]],
// POST /v1/messages/batches/:id/cancel, DELETE /v1/messages/batches/:id, in Anthropic's wire format (what @anthropic-ai/sdk's messages.batches
// expects). Like the OpenAI batches, a batch is processed lazily on the first read after the simulator's
// batchDelayMs (no timers), each request through the live Messages handler; per-line fates: batch-lines.ts.
import { createMessage } from "./anthropic-messages.ts";
import { FAILED_LINE_MESSAGE, lineFate, readyAt } from "./batch-lines.ts";
import { errorBody } from "./errors.ts";
import { isRecord, str, type JsonRecord } from "./json-util.ts";
import { errorOutcome, jsonOutcome, type Outcome } from "./outcome.ts";
import type { SimState, StoredMessageBatch, StoredMessageBatchRequest } from "./state.ts";

const CUSTOM_ID_RE = /^[a-zA-Z0-9_-]{1,64}$/;
const MAX_REQUESTS = 100_000;
const DAY_MS = 86_400_000;

function invalid(message: string): Outcome {
  return errorOutcome("anthropic", { status: 400, message });
}

function notFound(id: string): Outcome {
  return errorOutcome("anthropic", { status: 404, message: `message_batch_id: ${id} not found` });
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function batchObject(b: StoredMessageBatch, baseUrl: string): JsonRecord {
  const ended = b.endedAtMs !== null;
  return {
    id: b.id,
    type: "message_batch",
    processing_status: ended ? "ended" : b.cancelInitiatedAtMs !== null ? "canceling" : "in_progress",
    request_counts: { ...b.counts },
    ended_at: iso(b.endedAtMs),
    created_at: iso(b.createdAtMs),
    expires_at: iso(b.createdAtMs + DAY_MS),
    archived_at: null,
    cancel_initiated_at: iso(b.cancelInitiatedAtMs),
    results_url: ended ? `${baseUrl}/v1/messages/batches/${b.id}/results` : null,
  };
}

/** POST /v1/messages/batches: validates the envelope now (custom_id format and uniqueness); params at processing. */
function storeMessageBatch(state: SimState, body: JsonRecord): Outcome | StoredMessageBatch {
  const requests = body["requests"];
  if (!Array.isArray(requests) || requests.length === 0) return invalid("requests: at least one request is required");
  if (requests.length > MAX_REQUESTS) return invalid(`requests: at most ${MAX_REQUESTS} requests per batch`);
  const stored: StoredMessageBatchRequest[] = [];
  const seen = new Set<string>();
  for (const [i, r] of requests.entries()) {
    if (!isRecord(r)) return invalid(`requests.${i}: expected an object`);
    const customId = str(r["custom_id"]);
    if (customId === undefined || !CUSTOM_ID_RE.test(customId)) return invalid(`requests.${i}.custom_id: must match ^[a-zA-Z0-9_-]{1,64}$`);
    if (seen.has(customId)) return invalid(`requests.${i}.custom_id: duplicate custom_id '${customId}'`);
    seen.add(customId);
    const params = r["params"];
    if (!isRecord(params)) return invalid(`requests.${i}.params: expected an object`);
    stored.push({ customId, params });
  }
  const now = Date.now();
  const b: StoredMessageBatch = {
    id: state.nextId("msgbatch_"),
    requests: stored,
    createdAtMs: now,
    readyAtMs: readyAt(state, undefined, JSON.stringify(body["requests"])),
    cancelInitiatedAtMs: null,
    endedAtMs: null,
    counts: { processing: stored.length, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
    results: null,
  };
  state.messageBatches.set(b.id, b);
  return b;
}

function errored(state: SimState, type: string, message: string): JsonRecord {
  return { type: "errored", error: { type: "error", error: { type, message }, request_id: state.nextId("req_") } };
}

/** Runs every request (or cancels them all when a cancel came first) and ends the batch. */
function runMessageBatch(state: SimState, b: StoredMessageBatch): void {
  const counts = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
  const results: string[] = [];
  for (const r of b.requests) {
    let result: JsonRecord;
    const fate = b.cancelInitiatedAtMs !== null ? "cancel" : lineFate(state, r.customId, `${r.customId}\n${JSON.stringify(r.params)}`);
    if (fate === "cancel") result = { type: "canceled" };
    else if (fate === "expire") result = { type: "expired" };
    else if (fate === "fail") result = errored(state, "api_error", FAILED_LINE_MESSAGE);
    else {
      const o = createMessage(state, r.params, false);
      if (o.kind === "json" && o.status === 200) result = { type: "succeeded", message: JSON.parse(o.body) as unknown };
      else if (o.kind === "json") {
        // The live handler's error body is already Anthropic's {type: "error", error: {...}}.
        result = { type: "errored", error: { ...(JSON.parse(o.body) as JsonRecord), request_id: state.nextId("req_") } };
      } else result = errored(state, "timeout_error", "Request timed out (simulated).");
    }
    const type = result["type"] as "succeeded" | "errored" | "canceled" | "expired";
    counts[type]++;
    results.push(JSON.stringify({ custom_id: r.customId, result }));
  }
  b.counts = counts;
  b.results = results;
  b.endedAtMs = Date.now();
}

function current(state: SimState, b: StoredMessageBatch): StoredMessageBatch {
  if (b.endedAtMs === null && (b.cancelInitiatedAtMs !== null || Date.now() >= b.readyAtMs)) runMessageBatch(state, b);
  return b;
}

export function createMessageBatch(state: SimState, body: JsonRecord, baseUrl: string): Outcome {
  const b = storeMessageBatch(state, body);
  return "kind" in b ? b : jsonOutcome(JSON.stringify(batchObject(b, baseUrl)));
}

export function getMessageBatch(state: SimState, id: string, baseUrl: string): Outcome {
  const b = state.messageBatches.get(id);
  return b === undefined ? notFound(id) : jsonOutcome(JSON.stringify(batchObject(current(state, b), baseUrl)));
}

/** Results as JSONL, in request order (Anthropic does not promise an order; callers match on custom_id). */
export function getMessageBatchResults(state: SimState, id: string): Outcome {
  const b = state.messageBatches.get(id);
  if (b === undefined) return notFound(id);
  const results = current(state, b).results;
  if (results === null) return errorOutcome("anthropic", { status: 400, message: `Batch ${id} has not finished processing; results are not available yet.` });
  return { kind: "json", status: 200, body: `${results.join("\n")}\n`, contentType: "application/binary", outputTokens: 0, extraDelayMs: 0 };
}

/**
 * Cancel answers "canceling" (as Anthropic does); the next read ends the batch with every request canceled.
 * Cancelling an ended batch is a 400, as on the real API.
 */
export function cancelMessageBatch(state: SimState, id: string, baseUrl: string): Outcome {
  const b = state.messageBatches.get(id);
  if (b === undefined) return notFound(id);
  if (current(state, b).endedAtMs !== null) return { kind: "json", status: 400, body: errorBody("anthropic", { status: 400, message: `Batch ${id} has already ended and cannot be canceled.` }), outputTokens: 0, extraDelayMs: 0 };
  b.cancelInitiatedAtMs ??= Date.now();
  return jsonOutcome(JSON.stringify(batchObject(b, baseUrl)));
}

/** GET /v1/messages/batches?limit=&after_id=&before_id=: newest first, Anthropic's page shape. */
export function listMessageBatches(state: SimState, query: URLSearchParams, baseUrl: string): Outcome {
  let all = [...state.messageBatches.values()].reverse();
  const afterId = query.get("after_id");
  const beforeId = query.get("before_id");
  if (afterId !== null) all = all.slice(all.findIndex((b) => b.id === afterId) + 1);
  if (beforeId !== null) all = all.slice(0, Math.max(0, all.findIndex((b) => b.id === beforeId)));
  const limitRaw = Number(query.get("limit") ?? "20");
  const limit = Number.isInteger(limitRaw) ? Math.min(1000, Math.max(1, limitRaw)) : 20;
  // before_id pages toward newer batches: the page is the slice right before the cursor.
  const page = beforeId !== null && afterId === null ? all.slice(Math.max(0, all.length - limit)) : all.slice(0, limit);
  const data = page.map((b) => batchObject(current(state, b), baseUrl));
  return jsonOutcome(JSON.stringify({ data, has_more: page.length < all.length, first_id: page[0]?.id ?? null, last_id: page[page.length - 1]?.id ?? null }));
}

/** DELETE /v1/messages/batches/:id: only an ended batch can go (a running one must be canceled first). */
export function deleteMessageBatch(state: SimState, id: string): Outcome {
  const b = state.messageBatches.get(id);
  if (b === undefined) return notFound(id);
  if (current(state, b).endedAtMs === null) return invalid(`Batch ${id} is still processing; cancel it before deleting it.`);
  state.messageBatches.delete(id);
  return jsonOutcome(JSON.stringify({ id, type: "message_batch_deleted" }));
}
