// OpenAI Batch ↔ Anthropic Message Batches (pure): OpenAI JSONL lines in → Message Batch requests; a Message
// Batch → an OpenAI batch object; its results → OpenAI output / error JSONL lines. The executor's batch RPCs
// speak OpenAI whatever the provider, so the edge never sees Anthropic's shapes.
import type Anthropic from "@anthropic-ai/sdk";
import { ConnectError, Code } from "@connectrpc/connect";
import { GatewayError } from "#libs/errors/openai-error.ts";
import { toAnthropicRequest, type AnthropicRequest } from "./anthropic-request.ts";
import { fromAnthropicMessage } from "./anthropic-response.ts";
import type { ChatRequest } from "./types.ts";

type MessageBatch = Anthropic.Messages.MessageBatch;
type IndividualResponse = Anthropic.Messages.MessageBatchIndividualResponse;

export const CHAT_ENDPOINT = "/v1/chat/completions";

// Anthropic custom_ids are ^[a-zA-Z0-9_-]{1,64}$; OpenAI's are any string. Ids outside that set travel as
// base64url (the same alphabet) behind a prefix, so the executor stays stateless and the mapping reversible.
const SAFE_ID = /^[a-zA-Z0-9_-]{1,64}$/;
const ENCODED = "b64_";

export function toAnthropicCustomId(id: string): string {
  if (SAFE_ID.test(id) && !id.startsWith(ENCODED)) return id;
  const encoded = ENCODED + Buffer.from(id, "utf8").toString("base64url");
  if (encoded.length > 64) throw new ConnectError(`custom_id '${id.slice(0, 80)}' is too long for Anthropic batches (at most 64 of [a-zA-Z0-9_-], or 45 bytes otherwise)`, Code.InvalidArgument);
  return encoded;
}

export function fromAnthropicCustomId(id: string): string {
  return id.startsWith(ENCODED) ? Buffer.from(id.slice(ENCODED.length), "base64url").toString("utf8") : id;
}

function badLine(n: number, customId: string | undefined, message: string): ConnectError {
  return new ConnectError(`batch line ${n}${customId !== undefined ? ` (custom_id '${customId}')` : ""}: ${message}`, Code.InvalidArgument);
}

/**
 * OpenAI batch JSONL (chat completions only) → Message Batch requests, each body through the live
 * chat → Messages translation. A line the translation refuses fails the whole create with InvalidArgument
 * naming the line, as OpenAI's validation of an input file does.
 */
export function toAnthropicBatchRequests(jsonl: string, upstreamModel: string, defaultMaxTokens: number): Anthropic.Messages.BatchCreateParams.Request[] {
  const out: Anthropic.Messages.BatchCreateParams.Request[] = [];
  const seen = new Set<string>();
  let n = 0;
  for (const raw of jsonl.split("\n")) {
    const text = raw.trim();
    if (text.length === 0) continue;
    n++;
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch {
      throw badLine(n, undefined, "not valid JSON");
    }
    if (typeof line !== "object" || line === null || Array.isArray(line)) throw badLine(n, undefined, "not a JSON object");
    const rec = line as Record<string, unknown>;
    const customId = rec["custom_id"];
    if (typeof customId !== "string" || customId.length === 0) throw badLine(n, undefined, "custom_id must be a non-empty string");
    if (seen.has(customId)) throw badLine(n, customId, "duplicate custom_id");
    seen.add(customId);
    if (rec["url"] !== undefined && rec["url"] !== CHAT_ENDPOINT) throw badLine(n, customId, `url must be ${CHAT_ENDPOINT} for this model`);
    if (rec["method"] !== undefined && rec["method"] !== "POST") throw badLine(n, customId, "method must be POST");
    const body = rec["body"];
    if (typeof body !== "object" || body === null || Array.isArray(body) || !Array.isArray((body as { messages?: unknown }).messages)) {
      throw badLine(n, customId, "body must be a chat completion request with messages");
    }
    // A batch answers whole messages: streaming options do not apply.
    const { stream: _stream, stream_options: _streamOptions, ...chat } = body as Record<string, unknown>;
    let params: AnthropicRequest;
    try {
      params = toAnthropicRequest(chat as unknown as ChatRequest, upstreamModel, defaultMaxTokens);
    } catch (e) {
      if (e instanceof GatewayError) throw badLine(n, customId, `${e.message}${e.param !== null ? ` (param: ${e.param})` : ""}`);
      throw e;
    }
    out.push({ custom_id: toAnthropicCustomId(customId), params });
  }
  if (out.length === 0) throw new ConnectError("input_jsonl has no request lines", Code.InvalidArgument);
  return out;
}

/** The provider file ids the executor hands out for a Message Batch's results (GetBatchOutput parses them back). */
export function resultsFileId(batchId: string, kind: "output" | "errors"): string {
  return `${batchId}:${kind}`;
}

export function parseResultsFileId(fileId: string): { batchId: string; kind: "output" | "errors" } | undefined {
  const m = /^(msgbatch_[A-Za-z0-9_-]+):(output|errors)$/.exec(fileId);
  return m?.[1] !== undefined ? { batchId: m[1], kind: m[2] as "output" | "errors" } : undefined;
}

function unixSec(iso: string | null): number | null {
  if (iso === null) return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : null;
}

export type OpenAIBatchStatus = "validating" | "failed" | "in_progress" | "finalizing" | "completed" | "expired" | "cancelling" | "cancelled";

/**
 * Anthropic's processing_status → OpenAI's status. An ended batch is "cancelled" when a cancel was asked,
 * "expired" when some requests expired (the rest are still in the output), else "completed".
 */
export function openAIStatus(b: Pick<MessageBatch, "processing_status" | "cancel_initiated_at" | "request_counts">): OpenAIBatchStatus {
  if (b.processing_status === "in_progress") return "in_progress";
  if (b.processing_status === "canceling") return "cancelling";
  if (b.cancel_initiated_at !== null) return "cancelled";
  return b.request_counts.expired > 0 ? "expired" : "completed";
}

/**
 * A Message Batch as an OpenAI batch object. request_counts: completed = succeeded; failed = errored +
 * expired + canceled, the lines the error file carries; total includes those still processing.
 */
export function toOpenAIBatch(b: MessageBatch, metadata: Record<string, string> | null = null, completionWindow = "24h"): Record<string, unknown> {
  const status = openAIStatus(b);
  const c = b.request_counts;
  const ended = b.processing_status === "ended";
  const failed = c.errored + c.expired + c.canceled;
  const endedAt = unixSec(b.ended_at);
  return {
    id: b.id,
    object: "batch",
    endpoint: CHAT_ENDPOINT,
    errors: null,
    input_file_id: "",
    completion_window: completionWindow,
    status,
    output_file_id: ended && c.succeeded > 0 ? resultsFileId(b.id, "output") : null,
    error_file_id: ended && failed > 0 ? resultsFileId(b.id, "errors") : null,
    created_at: unixSec(b.created_at),
    in_progress_at: unixSec(b.created_at),
    expires_at: unixSec(b.expires_at),
    finalizing_at: ended ? endedAt : null,
    completed_at: status === "completed" ? endedAt : null,
    failed_at: null,
    expired_at: status === "expired" ? endedAt : null,
    cancelling_at: unixSec(b.cancel_initiated_at),
    cancelled_at: status === "cancelled" ? endedAt : null,
    request_counts: { total: c.processing + c.succeeded + failed, completed: c.succeeded, failed },
    metadata,
  };
}

const ERROR_STATUS: Record<string, { status: number; type: string }> = {
  invalid_request_error: { status: 400, type: "invalid_request_error" },
  authentication_error: { status: 401, type: "authentication_error" },
  billing_error: { status: 402, type: "insufficient_quota" },
  permission_error: { status: 403, type: "permission_error" },
  not_found_error: { status: 404, type: "invalid_request_error" },
  request_too_large: { status: 413, type: "invalid_request_error" },
  rate_limit_error: { status: 429, type: "rate_limit_error" },
  api_error: { status: 500, type: "server_error" },
  timeout_error: { status: 504, type: "timeout_error" },
  // Anthropic's 529: OpenAI clients know 503.
  overloaded_error: { status: 503, type: "service_unavailable" },
};

export interface TranslatedResult {
  /** true = the output file; false = the error file. */
  ok: boolean;
  line: string;
}

/**
 * One Anthropic result → one OpenAI batch output line: succeeded → {response: {status_code: 200, body:
 * chat.completion}}; errored → the provider's status with an OpenAI error body; canceled / expired → no
 * response and OpenAI's batch_cancelled / batch_expired error codes.
 */
export function fromAnthropicResult(r: IndividualResponse, lineId: string, reportedModel: string, createdSec: number): TranslatedResult {
  const customId = fromAnthropicCustomId(r.custom_id);
  const res = r.result;
  switch (res.type) {
    case "succeeded": {
      const { completion } = fromAnthropicMessage(res.message, reportedModel, createdSec);
      return { ok: true, line: JSON.stringify({ id: lineId, custom_id: customId, response: { status_code: 200, request_id: res.message.id, body: completion }, error: null }) };
    }
    case "errored": {
      const inner = res.error.error;
      const mapped = ERROR_STATUS[inner.type] ?? { status: 500, type: "server_error" };
      const body = { error: { message: inner.message, type: mapped.type, param: null, code: inner.type } };
      return { ok: false, line: JSON.stringify({ id: lineId, custom_id: customId, response: { status_code: mapped.status, request_id: res.error.request_id ?? "", body }, error: null }) };
    }
    case "canceled":
      return { ok: false, line: JSON.stringify({ id: lineId, custom_id: customId, response: null, error: { code: "batch_cancelled", message: "This request was not executed because the batch was cancelled." } }) };
    case "expired":
      return { ok: false, line: JSON.stringify({ id: lineId, custom_id: customId, response: null, error: { code: "batch_expired", message: "This request could not be executed before the completion window expired." } }) };
  }
}
