// OpenAI-compatible Files + Batches on the edge. Files, batches and every line live in the ledger
// (PostgreSQL / PGlite), so a restart loses nothing; the batch worker (batch-worker.ts) routes each
// line like a live request, answers what it can from the exact cache, submits the rest to the chosen
// providers' batch APIs and assembles the output. Every id is tenant-scoped: another tenant's is a 404.
import { randomUUID } from "node:crypto";
import { Decimal } from "decimal.js";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type OpenAI from "openai";
import { errors, GatewayError } from "#libs/errors/openai-error.ts";
import { boundaryOf, parseMultipart } from "#libs/http/multipart.ts";
import type { BatchJob } from "#libs/gen/llmgw/ledger/v1/ledger_pb.ts";
import { countPromptTokens } from "#libs/tokens/count.ts";
import type { AuthContext } from "./auth.ts";
import { BATCH_ENDPOINT, parseBatchInput, type BatchInputLine } from "./batch-input.ts";
import { checkString } from "./json-body.ts";
import { contentEncodingError } from "./input-guards.ts";
import { batchObject, fileObject, listPage } from "./batch-objects.ts";
import { BatchWorker } from "./batch-worker.ts";
import { registerBatchMetrics } from "./batch-metrics.ts";
import type { EdgeDeps } from "./deps.ts";
import { requestFacts } from "./messages.ts";
import { countRefusal, rateLimitError } from "./rate-limit-headers.ts";
import { budgetFailure } from "./chat/budget-outage.ts";

type JsonObject = Record<string, unknown>;
type Query = Record<string, unknown>;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const CANCELLABLE = ["validating", "in_progress"];
const MAX_METADATA_KEYS = 16;

export function registerBatchRoutes(app: FastifyInstance, deps: EdgeDeps, authenticate: (req: FastifyRequest) => Promise<AuthContext>): BatchWorker {
  const { config, clients } = deps;
  const limits = config.batches;
  const ledger = clients.ledger;
  const worker = new BatchWorker(deps);
  registerBatchMetrics(deps.registry, worker);
  if (limits.worker) {
    app.addHook("onReady", async () => worker.start());
    app.addHook("onClose", async () => worker.stop());
  }

  // Uploads arrive as multipart, up to the batch file limit (above the JSON body limit), plus the form's own
  // bytes; the parser lives in a scope of its own with the upload route only. Registered app-wide, it handed
  // every other route a Buffer for a multipart body, up to 32 MB past the JSON body limit, and the chat
  // validator (zod, passthrough) copied a 3 MB Buffer key by key: ~400 MB of heap for one request (issue #11).
  // Elsewhere multipart is now a 415, like any other content type that is not JSON.
  void app.register(async (uploads) => {
    uploads.addContentTypeParser("multipart/form-data", { parseAs: "buffer", bodyLimit: limits.max_file_bytes + 64 * 1024 }, (req, body, done) => {
      const encoded = contentEncodingError(req.headers["content-encoding"]);
      if (encoded) return done(encoded, undefined);
      done(null, body);
    });
    uploads.post("/v1/files", async (req) => {
      const who = await authenticate(req);
      const boundary = boundaryOf(req.headers["content-type"]);
      if (boundary === undefined || !Buffer.isBuffer(req.body)) throw errors.badRequest("Expected multipart/form-data with a 'file' and a 'purpose'.", "file");
      const parts = parseMultipart(req.body, boundary);
      const file = parts.find((p) => p.name === "file");
      const purpose = parts.find((p) => p.name === "purpose")?.data.toString("utf8");
      if (file === undefined) throw errors.badRequest("Missing required parameter: 'file'.", "file");
      // Stored in PostgreSQL text: no NUL or lone surrogate, and a name, not a document.
      const badName = file.filename === undefined ? undefined : checkString(file.filename, 512, "file.filename");
      if (badName) throw badName;
      if (purpose !== "batch") throw errors.badRequest(`'purpose' must be "batch" (got ${purpose === undefined ? "nothing" : `'${purpose}'`}).`, "purpose");
      if (file.data.length > limits.max_file_bytes) throw errors.badRequest(`The file is ${file.data.length} bytes; the limit is ${limits.max_file_bytes}.`, "file", "file_too_large");
      const parsed = parseBatchInput(file.data.toString("utf8"), config.edge.limits, limits.max_lines, "file");
      if (!parsed.ok) throw parsed.error;
      for (const l of parsed.value.lines) checkModel(l);
      const res = await ledger.putBatchFile({
        file: { id: `file-llmgw-${randomUUID()}`, tenantId: who.tenantId, filename: file.filename ?? "upload.jsonl", purpose, createdAt: BigInt(nowSec()), content: new Uint8Array(file.data) },
      });
      if (!res.file) throw errors.internal();
      return fileObject(res.file);
    });
  });

  app.get<{ Querystring: Query }>("/v1/files", async (req) => {
    const who = await authenticate(req);
    const { after, limit } = pageQuery(req.query, 1_000, 1_000);
    const purpose = req.query["purpose"];
    if (purpose !== undefined && typeof purpose !== "string") throw errors.badRequest("'purpose' must be a string.", "purpose", "invalid_value");
    const res = await ledger.listBatchFiles({ tenantId: who.tenantId, after, limit, purpose: purpose ?? "" });
    return listPage(res.files.map(fileObject), res.hasMore);
  });

  app.get<{ Params: { id: string } }>("/v1/files/:id", async (req) => {
    const who = await authenticate(req);
    const res = await ledger.getBatchFile({ tenantId: who.tenantId, id: req.params.id });
    if (!res.file) throw fileNotFound(req.params.id);
    return fileObject(res.file);
  });

  app.get<{ Params: { id: string } }>("/v1/files/:id/content", async (req, reply) => {
    const who = await authenticate(req);
    const res = await ledger.getBatchFile({ tenantId: who.tenantId, id: req.params.id, includeContent: true });
    if (!res.file) throw fileNotFound(req.params.id);
    reply.header("content-type", "application/octet-stream");
    return Buffer.from(res.file.content);
  });

  app.delete<{ Params: { id: string } }>("/v1/files/:id", async (req) => {
    const who = await authenticate(req);
    const res = await ledger.deleteBatchFile({ tenantId: who.tenantId, id: req.params.id });
    if (!res.deleted) throw fileNotFound(req.params.id);
    return { id: req.params.id, object: "file", deleted: true };
  });

  app.post<{ Body: unknown }>("/v1/batches", async (req) => {
    const who = await authenticate(req);
    const body: JsonObject = isObj(req.body) ? req.body : {};
    const inputFileId = body["input_file_id"];
    if (typeof inputFileId !== "string" || inputFileId.length === 0) throw errors.badRequest("Missing required parameter: 'input_file_id'.", "input_file_id");
    if (body["endpoint"] !== BATCH_ENDPOINT) throw errors.badRequest(`'endpoint' must be "${BATCH_ENDPOINT}" (the only endpoint the gateway batches).`, "endpoint");
    if (body["completion_window"] !== "24h") throw errors.badRequest("'completion_window' must be \"24h\".", "completion_window");
    const metadata = checkMetadata(body["metadata"]);
    const f = await ledger.getBatchFile({ tenantId: who.tenantId, id: inputFileId, includeContent: true });
    if (!f.file) throw new GatewayError({ status: 404, message: `No file found with id '${inputFileId}'.`, type: "invalid_request_error", param: "input_file_id", code: "not_found" });
    if (f.file.purpose !== "batch") throw errors.badRequest("'input_file_id' must name an uploaded batch input file.", "input_file_id");
    const parsed = parseBatchInput(decoder.decode(f.file.content), config.edge.limits, limits.max_lines, "input_file_id");
    if (!parsed.ok) throw parsed.error;
    for (const l of parsed.value.lines) checkModel(l, "input_file_id");

    const id = `batch_llmgw_${randomUUID().replaceAll("-", "")}`;
    const reserved = await reserveWorstCase(id, who, parsed.value.lines);
    const now = nowSec();
    try {
      const res = await ledger.createBatchJob({
        job: { id, tenantId: who.tenantId, keyId: who.keyId, inputFileId, endpoint: BATCH_ENDPOINT, completionWindow: "24h", status: "validating", createdAt: BigInt(now), expiresAt: BigInt(now + limits.expiry_seconds), metadataJson: metadata, reservedUsd: reserved },
        lines: parsed.value.lines.map((l, index) => ({ index, customId: l.customId, bodyJson: encoder.encode(JSON.stringify(l.body)), requestedModel: l.body.model })),
      });
      if (!res.job) throw errors.internal();
      worker.wake();
      return batchObject(res.job);
    } catch (e) {
      if (reserved) await ledger.settleBudget({ reservationId: id, actualUsd: "" }).catch(() => undefined);
      throw e;
    }
  });

  app.get<{ Querystring: Query }>("/v1/batches", async (req) => {
    const who = await authenticate(req);
    const { after, limit } = pageQuery(req.query, 100, 20);
    const res = await ledger.listBatchJobs({ tenantId: who.tenantId, after, limit });
    return listPage(res.jobs.map(batchObject), res.hasMore);
  });

  app.get<{ Params: { id: string } }>("/v1/batches/:id", async (req) => {
    const who = await authenticate(req);
    return batchObject(await job(who, req.params.id));
  });

  app.post<{ Params: { id: string } }>("/v1/batches/:id/cancel", async (req) => {
    const who = await authenticate(req);
    const j = await job(who, req.params.id);
    if (j.status === "cancelling" || j.status === "cancelled") return batchObject(j);
    const res = await ledger.updateBatchJob({ job: { id: j.id, status: "cancelling", cancellingAt: BigInt(nowSec()) }, expectedStatuses: CANCELLABLE });
    if (!res.updated) {
      const now = res.job ?? j;
      if (now.status === "cancelling" || now.status === "cancelled") return batchObject(now);
      throw new GatewayError({ status: 409, message: `Batch '${j.id}' is ${now.status} and can no longer be cancelled.`, type: "invalid_request_error", code: "batch_not_cancellable" });
    }
    worker.wake();
    return batchObject(res.job ?? j);
  });

  async function job(who: AuthContext, id: string): Promise<BatchJob> {
    const res = await ledger.getBatchJob({ tenantId: who.tenantId, id });
    if (!res.job) throw errors.notFound(`No batch found with id '${id}'.`);
    return res.job;
  }

  function checkModel(l: BatchInputLine, param = "file"): void {
    const m = l.body.model;
    if (config.edge.aliases.includes(m)) return;
    const bad = (why: string, code: string) => errors.badRequest(`Invalid batch input file, line ${l.line}: ${why}`, param, code);
    if (!config.models[m]) throw bad(`the model '${m}' does not exist.`, "model_not_found");
    // A provider without a batch API is fine: the worker runs those lines as ordinary calls.
    if (config.models[m]?.kind === "embedding") throw bad(`'${m}' is an embedding model; batch lines go to ${BATCH_ENDPOINT}.`, "unsupported_model");
  }

  /**
   * The whole batch's worst case, reserved under the batch id: each line's prompt at full input price
   * plus max_tokens of output on the dearest model it may land on (its own, or for "auto" any chat
   * model: one without a batch API runs live). Settled by the worker with the real cost when the batch ends.
   */
  async function reserveWorstCase(id: string, who: AuthContext, lines: readonly BatchInputLine[]): Promise<string> {
    const at = new Date();
    const autoModels = Object.keys(config.models).filter((m) => config.models[m]?.kind !== "embedding");
    let worst = new Decimal(0);
    let tokens = 0;
    for (const l of lines) {
      const body = l.body as unknown as OpenAI.Chat.ChatCompletionCreateParams;
      const facts = requestFacts(body, config.models[body.model]?.max_output_tokens ?? 1024);
      const t = countPromptTokens(facts.texts).tokens;
      tokens += t;
      const models = config.edge.aliases.includes(body.model) ? autoModels : [body.model];
      worst = worst.plus(deps.pricing.worstCaseUsd(models, t, facts.maxTokens, at));
    }
    let res;
    try {
      res = await ledger.reserveBudget({ reservationId: id, tenantId: who.tenantId, keyId: who.keyId, amountUsd: worst.toFixed(), tokens: BigInt(tokens) });
    } catch (e) {
      // The budget store's outage: the same rule as live traffic (budgets.outage_mode).
      const refusal = budgetFailure(config.budgets);
      if (refusal) throw refusal;
      deps.logger.warn({ err: e instanceof Error ? e.message : String(e), batchId: id }, "batch budget reservation failed; admitting");
      return "";
    }
    if (res.rateLimited) {
      countRefusal(deps.registry, res.rateLimit?.refusedBy ?? "");
      throw rateLimitError(res.message, res.rateLimit);
    }
    if (!res.admitted) throw errors.quotaExceeded(`${res.message || "Budget exhausted for this key or tenant."} The batch's worst case is $${worst.toFixed(6)}.`);
    return worst.toFixed();
  }

  return worker;
}

function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

function fileNotFound(id: string): GatewayError {
  return errors.notFound(`No file found with id '${id}'.`);
}

function isObj(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** OpenAI's cursor paging: `after` an id of the previous page, `limit` 1..max. */
function pageQuery(q: Query, max: number, dflt: number): { after: string; limit: number } {
  const after = q["after"];
  if (after !== undefined && (typeof after !== "string" || after.length === 0)) throw errors.badRequest("'after' must be an id from a previous page.", "after", "invalid_value");
  const raw = q["limit"];
  let limit = dflt;
  if (raw !== undefined) {
    limit = typeof raw === "string" && /^\d{1,6}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isInteger(limit) || limit < 1 || limit > max) throw errors.badRequest(`'limit' must be an integer from 1 to ${max}.`, "limit", "invalid_value");
  }
  return { after: after ?? "", limit };
}

/** OpenAI's metadata: up to 16 string pairs (keys ≤ 64 characters, values ≤ 512). */
function checkMetadata(v: unknown): string {
  if (v === undefined || v === null) return "";
  const bad = () => errors.badRequest(`'metadata' must be an object of at most ${MAX_METADATA_KEYS} string values (keys up to 64 characters, values up to 512).`, "metadata", "invalid_value");
  if (!isObj(v)) throw bad();
  const entries = Object.entries(v);
  if (entries.length > MAX_METADATA_KEYS) throw bad();
  for (const [k, val] of entries) if (k.length > 64 || typeof val !== "string" || val.length > 512) throw bad();
  return JSON.stringify(v);
}
