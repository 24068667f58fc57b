// Pure validation of a Batch API input file (JSONL of {custom_id, method, url, body}) and of the
// provider output lines the edge accounts for. No I/O.
import type { Limits } from "#libs/config/limits.ts";
import { fromOpenAIUsageJson } from "#libs/pricing/usage-openai.ts";
import { errors, isGatewayError, type GatewayError } from "#libs/errors/openai-error.ts";
import type { UsageCounts } from "#libs/pricing/usage-types.ts";
import { checkCounts } from "./input-guards.ts";
import { parseJsonBody } from "./json-body.ts";
import { validateChatRequest } from "./validate.ts";

/** The chat route's own input limits, which every line's body is held to. */
export type LineLimits = Pick<Limits, "json_depth" | "json_keys" | "string_chars" | "messages" | "tools">;

export const BATCH_ENDPOINT = "/v1/chat/completions";

export interface BatchInputLine {
  customId: string;
  /** 1-based line number in the file, for errors that name it. */
  line: number;
  body: Record<string, unknown> & { model: string; messages: unknown[] };
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: GatewayError };

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Every line must be a chat completion request; lines may name different models ("auto" included:
 * each line is routed on its own). Checked at upload, so a bad file is a 400 naming its line (param
 * "file"); the caller checks the models against config. Each line passes what the chat route checks
 * (nesting, NUL and lone surrogates, string lengths, the request's fields, message and tool counts):
 * a line that would be a 400 there is one here, not a failure when the batch is created or run.
 */
export function parseBatchInput(jsonl: string, limits: LineLimits, maxLines = Number.POSITIVE_INFINITY, param = "file"): Parsed<{ lines: BatchInputLine[] }> {
  const bad = (n: number, why: string): Parsed<never> => ({ ok: false, error: errors.badRequest(`Invalid batch input file, line ${n}: ${why}`, param, "invalid_batch_input") });
  const lines: BatchInputLine[] = [];
  const seen = new Set<string>();
  let n = 0;
  for (const raw of jsonl.split("\n")) {
    n++;
    const text = raw.trim();
    if (text.length === 0) continue;
    if (lines.length >= maxLines) return bad(n, `the file has more than ${maxLines} requests (the limit).`);
    let v: unknown;
    try {
      v = parseJsonBody(text, limits);
    } catch (e) {
      if (isGatewayError(e)) return bad(n, e.message);
      throw e;
    }
    if (!isObj(v)) return bad(n, "not a JSON object.");
    const customId = v["custom_id"];
    if (typeof customId !== "string" || customId.length === 0) return bad(n, "'custom_id' must be a non-empty string.");
    if (customId.length > 512) return bad(n, "'custom_id' is longer than 512 characters.");
    if (seen.has(customId)) return bad(n, `duplicate custom_id '${customId}'.`);
    seen.add(customId);
    if (v["method"] !== "POST") return bad(n, "'method' must be \"POST\".");
    if (v["url"] !== BATCH_ENDPOINT) return bad(n, `'url' must be "${BATCH_ENDPOINT}".`);
    const body = v["body"];
    if (!isObj(body)) return bad(n, "'body' must be an object.");
    if (typeof body["model"] !== "string" || body["model"].length === 0) return bad(n, "'body.model' must be a non-empty string.");
    if (!Array.isArray(body["messages"]) || body["messages"].length === 0) return bad(n, "'body.messages' must be a non-empty array.");
    if (body["stream"] === true) return bad(n, "'body.stream' is not supported in a batch.");
    const valid = validateChatRequest(body);
    if (!valid.ok) return bad(n, `in 'body': ${valid.error.message}`);
    try {
      checkCounts(body, limits);
    } catch (e) {
      if (isGatewayError(e)) return bad(n, `in 'body': ${e.message}`);
      throw e;
    }
    lines.push({ customId, line: n, body: body as BatchInputLine["body"] });
  }
  if (lines.length === 0) return { ok: false, error: errors.badRequest("The batch input file has no requests.", param, "invalid_batch_input") };
  return { ok: true, value: { lines } };
}

export interface BatchOutputLine {
  customId: string;
  status: number;
  usage: UsageCounts | null;
  errorCode: string;
  /** The response body (a chat.completion, or an error object) or the line's own error. */
  body: unknown;
}

const count = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) && v > 0 ? v : 0);

/** Provider output/error JSONL → one record per request. Unparseable lines are skipped (and counted). */
export function parseBatchOutput(jsonl: string): { lines: BatchOutputLine[]; skipped: number } {
  const lines: BatchOutputLine[] = [];
  let skipped = 0;
  for (const raw of jsonl.split("\n")) {
    const text = raw.trim();
    if (text.length === 0) continue;
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      skipped++;
      continue;
    }
    if (!isObj(v) || typeof v["custom_id"] !== "string") {
      skipped++;
      continue;
    }
    const res = isObj(v["response"]) ? v["response"] : undefined;
    const body = res && isObj(res["body"]) ? res["body"] : undefined;
    const u = body && isObj(body["usage"]) ? body["usage"] : undefined;
    const status = typeof res?.["status_code"] === "number" ? res["status_code"] : 500;
    const err = body && isObj(body["error"]) ? body["error"] : isObj(v["error"]) ? v["error"] : undefined;
    lines.push({ customId: v["custom_id"], status, usage: u ? fromOpenAIUsageJson(u) : null, errorCode: status === 200 ? "" : typeof err?.["code"] === "string" ? err["code"] : "batch_request_failed", body: body ?? (err ? { error: err } : null) });
  }
  return { lines, skipped };
}

