// OpenAI-compatible Files + Batches on the edge (chat completions, OpenAI-type providers): a batch is
// forwarded whole to the provider's own Batch API through the executor, so its batch discount applies.
// Ids are the gateway's (tenant-scoped, in memory: see batch-store.ts); spend is published per output
// line once the batch is seen completed or its output is fetched.
import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { subjects } from "#libs/bus/subjects.ts";
import { errors, GatewayError } from "#libs/errors/openai-error.ts";
import { boundaryOf, parseMultipart } from "#libs/http/multipart.ts";
import type { AuthContext } from "./auth.ts";
import { batchLineCompletedBytes } from "./batch-accounting.ts";
import { BATCH_ENDPOINT, batchJsonl, parseBatchInput, parseBatchOutput } from "./batch-input.ts";
import { BatchStore, type StoredBatch, type StoredFile } from "./batch-store.ts";
import { registerBatchMetrics } from "./batch-metrics.ts";
import type { EdgeDeps } from "./deps.ts";
import { requestFacts } from "./messages.ts";
import type { EventOutbox } from "./outbox.ts";

type JsonObject = Record<string, unknown>;
const decoder = new TextDecoder();

export function registerBatchRoutes(app: FastifyInstance, deps: EdgeDeps, authenticate: (req: FastifyRequest) => Promise<AuthContext>, outbox: EventOutbox, store = new BatchStore()): void {
  const { config, clients } = deps;
  const requestCompleted = subjects(deps.events.names).requestCompleted;
  registerBatchMetrics(deps.registry, store);

  // Uploads arrive as multipart; the SDKs send one small form per file.
  app.addContentTypeParser("multipart/form-data", { parseAs: "buffer" }, (_req, body, done) => done(null, body));

  const fileObject = (f: StoredFile) => ({
    id: f.id,
    object: "file",
    bytes: f.kind === "input" ? f.content.length : 0,
    created_at: f.createdAt,
    filename: f.kind === "input" ? f.filename : "batch_output.jsonl",
    purpose: f.purpose,
    status: "processed",
    status_details: null,
    expires_at: null,
  });

  const ctxOf = (who: AuthContext) => ({ requestId: randomUUID(), tenantId: who.tenantId, keyId: who.keyId, traceId: "" });

  app.post("/v1/files", async (req) => {
    const who = await authenticate(req);
    const boundary = boundaryOf(req.headers["content-type"]);
    if (boundary === undefined || !Buffer.isBuffer(req.body)) throw errors.badRequest("Expected multipart/form-data with a 'file' and a 'purpose'.", "file");
    const parts = parseMultipart(req.body, boundary);
    const file = parts.find((p) => p.name === "file");
    const purpose = parts.find((p) => p.name === "purpose")?.data.toString("utf8");
    if (file === undefined) throw errors.badRequest("Missing required parameter: 'file'.", "file");
    if (purpose !== "batch") throw errors.badRequest(`'purpose' must be "batch" (got ${purpose === undefined ? "nothing" : `'${purpose}'`}).`, "purpose");
    const f = store.addInputFile({ tenantId: who.tenantId, filename: file.filename ?? "upload.jsonl", purpose, content: Buffer.from(file.data) });
    return fileObject(f);
  });

  app.get<{ Params: { id: string } }>("/v1/files/:id", async (req) => {
    const who = await authenticate(req);
    const f = store.file(req.params.id, who.tenantId);
    if (!f) throw fileNotFound(req.params.id);
    return fileObject(f);
  });

  app.get<{ Params: { id: string } }>("/v1/files/:id/content", async (req, reply) => {
    const who = await authenticate(req);
    const f = store.file(req.params.id, who.tenantId);
    if (!f) throw fileNotFound(req.params.id);
    reply.header("content-type", "application/octet-stream");
    if (f.kind === "input") return f.content;
    const b = store.batch(f.batchId, who.tenantId);
    if (!b) throw fileNotFound(req.params.id);
    const content = await viaExecutor(() => clients.executor.getBatchOutput({ context: ctxOf(who), model: b.model, providerFileId: f.providerFileId }));
    // First fetch of an output accounts for its lines (idempotent per batch id + custom_id).
    if (!b.accounted) await account(b, who, [decoder.decode(content.content)]);
    return Buffer.from(content.content);
  });

  app.post<{ Body: unknown }>("/v1/batches", async (req) => {
    const who = await authenticate(req);
    const body: JsonObject = isObj(req.body) ? req.body : {};
    const inputFileId = body["input_file_id"];
    if (typeof inputFileId !== "string" || inputFileId.length === 0) throw errors.badRequest("Missing required parameter: 'input_file_id'.", "input_file_id");
    if (body["endpoint"] !== BATCH_ENDPOINT) throw errors.badRequest(`'endpoint' must be "${BATCH_ENDPOINT}" (the only endpoint the gateway batches).`, "endpoint");
    if (body["completion_window"] !== "24h") throw errors.badRequest("'completion_window' must be \"24h\".", "completion_window");
    const f = store.file(inputFileId, who.tenantId);
    if (!f) throw new GatewayError({ status: 404, message: `No file found with id '${inputFileId}'.`, type: "invalid_request_error", param: "input_file_id", code: "not_found" });
    if (f.kind !== "input") throw errors.badRequest("'input_file_id' must name an uploaded batch input file.", "input_file_id");
    const parsed = parseBatchInput(f.content.toString("utf8"));
    if (!parsed.ok) throw parsed.error;
    const requested = parsed.value.model;
    const ctx = ctxOf(who);
    const model = config.edge.aliases.includes(requested) ? await resolveAlias(requested, parsed.value.lines[0]?.body, ctx) : requested;
    const modelCfg = config.models[model];
    if (!modelCfg) throw errors.badRequest(`The batch names model '${model}', which does not exist.`, "input_file_id", "model_not_found");
    if (config.providers[modelCfg.provider]?.type !== "openai") throw errors.badRequest(`Batches are supported for OpenAI-type providers only; '${model}' is served by '${modelCfg.provider}'.`, "input_file_id", "unsupported_model");
    const created = await viaExecutor(() =>
      clients.executor.createBatch({ context: ctx, model, inputJsonl: new TextEncoder().encode(batchJsonl(parsed.value.lines, model)), endpoint: BATCH_ENDPOINT, completionWindow: "24h" }),
    );
    const providerBatch = parseObj(created.batchJson);
    const providerBatchId = providerBatch["id"];
    if (typeof providerBatchId !== "string") throw errors.badGateway("The provider returned a batch without an id.");
    const b = store.addBatch({ tenantId: who.tenantId, keyId: who.keyId, requestedModel: requested, model, provider: created.provider, providerBatchId, inputFileId, createdAt: new Date() });
    return batchObject(b, providerBatch);
  });

  app.get<{ Params: { id: string } }>("/v1/batches/:id", async (req) => {
    const who = await authenticate(req);
    const b = store.batch(req.params.id, who.tenantId);
    if (!b) throw errors.notFound(`No batch found with id '${req.params.id}'.`);
    const res = await viaExecutor(() => clients.executor.getBatch({ context: ctxOf(who), model: b.model, providerBatchId: b.providerBatchId }));
    const providerBatch = parseObj(res.batchJson);
    if (providerBatch["status"] === "completed" && !b.accounted) {
      const contents: string[] = [];
      for (const key of ["output_file_id", "error_file_id"] as const) {
        const fid = providerBatch[key];
        if (typeof fid !== "string") continue;
        const out = await viaExecutor(() => clients.executor.getBatchOutput({ context: ctxOf(who), model: b.model, providerFileId: fid }));
        contents.push(decoder.decode(out.content));
      }
      await account(b, who, contents);
    }
    return batchObject(b, providerBatch);
  });

  /** The provider's batch object under gateway ids. */
  function batchObject(b: StoredBatch, p: JsonObject): JsonObject {
    const mapFile = (v: unknown) => (typeof v === "string" ? store.outputFileId(b, v) : null);
    return { ...p, id: b.id, input_file_id: b.inputFileId, output_file_id: mapFile(p["output_file_id"]), error_file_id: mapFile(p["error_file_id"]), model: b.model };
  }

  async function account(b: StoredBatch, _who: AuthContext, contents: string[]): Promise<void> {
    b.accounted = true;
    const baseline = config.edge.aliases.includes(b.requestedModel) ? config.routing.reference_model : b.requestedModel;
    const now = new Date();
    let skipped = 0;
    for (const c of contents) {
      const parsed = parseBatchOutput(c);
      skipped += parsed.skipped;
      for (const line of parsed.lines) {
        const ev = batchLineCompletedBytes(b, line, baseline, now);
        outbox.publish(requestCompleted, ev.data, ev.requestId);
      }
    }
    if (skipped > 0) deps.logger.warn({ batchId: b.id, skipped }, "batch output lines could not be parsed and were not accounted");
  }

  /** "auto" (or another alias) → one concrete OpenAI-type model, routed once from the first line. */
  async function resolveAlias(alias: string, first: JsonObject | undefined, ctx: ReturnType<typeof ctxOf>): Promise<string> {
    if (!first) throw errors.badRequest("The batch input file has no requests.", "input_file_id");
    // The first line was validated as a chat request (model + messages) by parseBatchInput.
    const facts = requestFacts(first as unknown as Parameters<typeof requestFacts>[0], 1024);
    const cls = await clients.classifier.classify({ context: ctx, messages: facts.messages, hasTools: facts.hasTools, jsonMode: facts.jsonMode, maxTokens: facts.maxTokens });
    const route = await clients.router.route({ context: ctx, requestedModel: alias, tier: cls.tier, category: cls.category, maxTokens: facts.maxTokens, requiredCapabilities: facts.capabilities, stream: false });
    const pick = [...route.candidates, ...route.escalation].find((c) => {
      const m = config.models[c.model];
      return m !== undefined && config.providers[m.provider]?.type === "openai";
    });
    if (!pick) throw errors.badRequest(`'${alias}' routed to no OpenAI-type model; batches need one. Name a concrete model.`, "input_file_id", "unsupported_model");
    return pick.model;
  }
}

function fileNotFound(id: string): GatewayError {
  return errors.notFound(`No file found with id '${id}'.`);
}

function isObj(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function parseObj(bytes: Uint8Array): JsonObject {
  let v: unknown;
  try {
    v = JSON.parse(decoder.decode(bytes));
  } catch {
    throw errors.badGateway("The provider returned an unreadable batch object.");
  }
  if (!isObj(v)) throw errors.badGateway("The provider returned an unreadable batch object.");
  return v;
}

/**
 * Executor failures take the shared Connect → OpenAI mapping in the edge's error handler, with one
 * exception: the executor reports the provider's own 401/403 as PermissionDenied/Unauthenticated, and
 * that is the provider refusing the gateway's credentials, not the caller's: a 502 that says no more.
 */
async function viaExecutor<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof ConnectError && (e.code === Code.PermissionDenied || e.code === Code.Unauthenticated)) {
      throw errors.badGateway("The provider refused the gateway's credentials for the Batch API.", "upstream_auth_error");
    }
    throw e;
  }
}
