// Maps (method, path) to a handler. Side-effect free apart from the simulator state it is given.
import { cancelMessageBatch, createMessageBatch, deleteMessageBatch, getMessageBatch, getMessageBatchResults, listMessageBatches } from "./anthropic-batches.ts";
import { countMessageTokens, createMessage } from "./anthropic-messages.ts";
import { cancelBatch, createBatch, getBatch, getFile, getFileContent, listBatches, uploadFile } from "./batches.ts";
import { isEmbeddingModel } from "./catalogue.ts";
import { createEmbeddings } from "./embeddings.ts";
import type { Protocol } from "./errors.ts";
import { isFaultRule } from "./faults.ts";
import { isRecord, type JsonRecord } from "./json-util.ts";
import { chatCompletion } from "./openai-chat.ts";
import { errorOutcome, jsonOutcome, type Outcome } from "./outcome.ts";
import type { SimState } from "./state.ts";

export interface RouteRequest {
  method: string;
  path: string;
  body: Buffer;
  contentType: string | undefined;
  /** The client sent anthropic-version (selects Anthropic shapes on shared paths like /v1/models). */
  anthropic: boolean;
  /** The query string (list pagination). */
  query?: URLSearchParams;
  /** This simulator's own URL as the client reached it (Anthropic's absolute results_url). */
  baseUrl?: string;
}

/** Protocol whose error shape a path uses. */
export function protocolOf(path: string, anthropic: boolean): Protocol {
  return path.startsWith("/v1/messages") || (anthropic && !path.startsWith("/v1/chat")) ? "anthropic" : "openai";
}

type Parsed = { ok: true; body: JsonRecord } | { ok: false; outcome: Outcome };

function parseJson(r: RouteRequest): Parsed {
  let v: unknown;
  try {
    v = JSON.parse(r.body.toString("utf8"));
  } catch {
    const message = "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)";
    return { ok: false, outcome: errorOutcome(protocolOf(r.path, r.anthropic), { status: 400, message }) };
  }
  if (!isRecord(v)) return { ok: false, outcome: errorOutcome(protocolOf(r.path, r.anthropic), { status: 400, message: "Request body must be a JSON object" }) };
  return { ok: true, body: v };
}

function withJson(r: RouteRequest, fn: (body: JsonRecord) => Outcome): Outcome {
  const parsed = parseJson(r);
  return parsed.ok ? fn(parsed.body) : parsed.outcome;
}

const CREATED = 1_715_000_000;

function listModels(state: SimState, anthropic: boolean): Outcome {
  const models = [...state.models.values()];
  if (anthropic) {
    const data = models.filter((m) => !isEmbeddingModel(m)).map((m) => ({ type: "model", id: m.id, display_name: m.id, created_at: "2025-01-01T00:00:00Z" }));
    return jsonOutcome(JSON.stringify({ data, has_more: false, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null }));
  }
  return jsonOutcome(JSON.stringify({ object: "list", data: models.map((m) => ({ id: m.id, object: "model", created: CREATED, owned_by: "llmgw-simulator" })) }));
}

function getModel(state: SimState, id: string, anthropic: boolean): Outcome {
  const m = state.models.get(id);
  if (m === undefined) {
    return anthropic
      ? errorOutcome("anthropic", { status: 404, message: `model: ${id}` })
      : errorOutcome("openai", { status: 404, message: `The model \`${id}\` does not exist or you do not have access to it.`, code: "model_not_found" });
  }
  return jsonOutcome(
    JSON.stringify(anthropic ? { type: "model", id: m.id, display_name: m.id, created_at: "2025-01-01T00:00:00Z" } : { id: m.id, object: "model", created: CREATED, owned_by: "llmgw-simulator" }),
  );
}

function addFaults(state: SimState, r: RouteRequest): Outcome {
  return withJson(r, (body) => {
    const rules: unknown[] = Array.isArray(body["rules"]) ? body["rules"] : [body];
    if (!rules.every(isFaultRule)) return errorOutcome("openai", { status: 400, message: "expected {model?, status: 429|500|503|400, count, retryAfterSec?}" });
    for (const rule of rules) state.faults.add(rule);
    return jsonOutcome(JSON.stringify({ ok: true, added: rules.length }));
  });
}

/** Anthropic Message Batches: /v1/messages/batches[/:id[/results|/cancel]]. */
function messageBatches(state: SimState, r: RouteRequest): Outcome | undefined {
  const parts = r.path.split("/"); // ["", "v1", "messages", "batches", id?, sub?]
  if (parts[2] !== "messages" || parts[3] !== "batches") return undefined;
  const base = r.baseUrl ?? "http://127.0.0.1";
  const id = parts[4] !== undefined ? decodeURIComponent(parts[4]) : undefined;
  if (r.method === "POST" && id === undefined) return withJson(r, (b) => createMessageBatch(state, b, base));
  if (r.method === "POST" && id !== undefined && parts[5] === "cancel" && parts.length === 6) return cancelMessageBatch(state, id, base);
  if (r.method === "GET" && id === undefined) return listMessageBatches(state, r.query ?? new URLSearchParams(), base);
  if (r.method === "GET" && id !== undefined && parts.length === 5) return getMessageBatch(state, id, base);
  if (r.method === "GET" && id !== undefined && parts[5] === "results" && parts.length === 6) return getMessageBatchResults(state, id);
  if (r.method === "DELETE" && id !== undefined && parts.length === 5) return deleteMessageBatch(state, id);
  return undefined;
}

export function route(state: SimState, r: RouteRequest): Outcome {
  const { method, path } = r;
  if (path.startsWith("/v1/messages/batches")) {
    const o = messageBatches(state, r);
    if (o !== undefined) return o;
  }
  if (method === "POST") {
    switch (path) {
      case "/v1/chat/completions":
        return withJson(r, (b) => chatCompletion(state, b));
      case "/v1/messages":
        return withJson(r, (b) => createMessage(state, b));
      case "/v1/messages/count_tokens":
        return withJson(r, (b) => countMessageTokens(state, b));
      case "/v1/embeddings":
        return withJson(r, (b) => createEmbeddings(state, b));
      case "/v1/files":
        return uploadFile(state, r.body, r.contentType);
      case "/v1/batches":
        return withJson(r, (b) => createBatch(state, b));
      case "/_sim/faults":
        return addFaults(state, r);
    }
    const cancel = /^\/v1\/batches\/([^/]+)\/cancel$/.exec(path);
    if (cancel?.[1] !== undefined) return cancelBatch(state, cancel[1]);
  } else if (method === "GET") {
    if (path === "/v1/models") return listModels(state, r.anthropic);
    if (path === "/v1/batches") return listBatches(state, r.query);
    if (path === "/_sim/stats") return jsonOutcome(JSON.stringify(state.stats()));
    if (path === "/healthz") return jsonOutcome('{"ok":true}');
    const parts = path.split("/");
    // ["", "v1", kind, id, sub?]
    if (parts[1] === "v1" && parts[3] !== undefined) {
      const id = decodeURIComponent(parts[3]);
      if (parts[2] === "models" && parts.length === 4) return getModel(state, id, r.anthropic);
      if (parts[2] === "batches" && parts.length === 4) return getBatch(state, id);
      if (parts[2] === "files" && parts.length === 4) return getFile(state, id);
      if (parts[2] === "files" && parts[4] === "content" && parts.length === 5) return getFileContent(state, id);
    }
  } else if (method === "DELETE" && path === "/_sim/faults") {
    state.faults.clear();
    return jsonOutcome('{"ok":true}');
  }
  return errorOutcome(protocolOf(path, r.anthropic), { status: 404, message: `Unknown route ${method} ${path}` });
}
