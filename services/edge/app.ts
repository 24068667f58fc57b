// The REST edge as a pure function of its dependencies: OpenAI-compatible routes, admin routes,
// health and metrics. main.ts (mesh) and the embedded composition both call buildEdgeApp.
import { newRequestId } from "#libs/http/request-id.ts";
import { ConnectError } from "@connectrpc/connect";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { connectToOpenAI } from "#libs/errors/connect-to-openai.ts";
import { errors, GatewayError, isGatewayError } from "#libs/errors/openai-error.ts";
import { KeyAuthenticator, type AuthContext } from "./auth.ts";
import { ChatPipeline } from "./chat-pipeline.ts";
import { answerBytes } from "./chat/execute.ts";
import type { EdgeDeps } from "./deps.ts";
import { edgeMetrics } from "./metrics.ts";
import { EventOutbox } from "./outbox.ts";
import { registerAdminRoutes } from "./routes-admin.ts";
import { metricsAccess } from "./metrics-access.ts";
import { registerRateLimitRoutes } from "./routes-rate-limits.ts";
import { registerBatchRoutes } from "./routes-batches.ts";
import { registerPolicyRoutes } from "./routes-policy.ts";
import { contentEncodingError, inputGuardOptions, registerInputGuards } from "./input-guards.ts";
import { parseJsonBodyYielding, parseSmallJsonBody, YIELD_BYTES } from "./json-body.ts";
import { registerDashboardRoutes } from "./routes-dashboard.ts";
import { registerResponsesRoutes } from "./routes-responses.ts";
import { registerAnthropicRoutes, sendAnthropicError } from "./routes-anthropic.ts";
import { registerEmbeddingsRoutes } from "./routes-embeddings.ts";
import { registerShadowRoutes } from "./routes-shadow.ts";
import { registerCacheRoutes } from "./routes-cache.ts";
import { callBase, headerValue, sessionIdOf } from "./request-meta.ts";
import { registerTracing } from "./tracing-hooks.ts";
import { validateChatRequest } from "./validate.ts";
import { openSse, writeSse } from "#libs/http/sse.ts";
import { warmTokenizer } from "#libs/tokens/count.ts";

/** The content type Fastify gives a serialized object: the answer's bytes go out under the same one. */
const JSON_UTF8 = "application/json; charset=utf-8";

export interface EdgeApp {
  app: FastifyInstance;
  outbox: EventOutbox;
  auth: KeyAuthenticator;
  /** Stop taking traffic (readyz → 503), let in-flight requests finish, flush events. */
  drain(timeoutMs: number): Promise<void>;
}

declare module "fastify" {
  interface FastifyRequest {
    llmgwStart: number;
    llmgwId: string;
  }
}

export function buildEdgeApp(deps: EdgeDeps): EdgeApp {
  const { config, logger } = deps;
  warmTokenizer();
  const app = Fastify({
    bodyLimit: config.edge.body_limit_bytes,
    logger: false,
    // Our own ids: they travel through every service and into the ledger.
    genReqId: newRequestId,
    requestTimeout: config.edge.request_timeout_ms,
    // Fastify's and Node's own early errors (bad URL, malformed HTTP, 431, 503 while draining) in our shape.
    ...inputGuardOptions(),
  });
  const metrics = edgeMetrics(deps.registry);
  const outbox = new EventOutbox(deps.events, logger, deps.registry);
  const auth = new KeyAuthenticator(deps.clients.ledger);
  // After-answer hooks run once the answer is on its way (setImmediate follows the response write).
  const pipeline = new ChatPipeline(deps, outbox, metrics, undefined, { defer: setImmediate });
  let draining = false;

  app.decorateRequest("llmgwStart", 0);
  app.decorateRequest("llmgwId", "");
  // Per-request hooks take a callback, not an async function: no promise per request and hook.
  app.addHook("onRequest", (req, _reply, done) => {
    req.llmgwStart = performance.now();
    req.llmgwId = req.id;
    done();
  });
  registerTracing(app);
  // One access-log line per API request, keyed by the request id every service logs too.
  app.addHook("onResponse", (req, reply, done) => {
    // The line's fields are not even built when info is off (LOG_LEVEL=warn, the benchmarks' silent logger).
    if (req.url.startsWith("/v1/") && logger.isLevelEnabled("info")) {
      logger.info({ requestId: req.id, method: req.method, path: req.url.split("?")[0], status: reply.statusCode, ms: Math.round((performance.now() - req.llmgwStart) * 1000) / 1000 }, "request");
    }
    done();
  });

  registerInputGuards(app, config.edge.limits, () => draining, notFound);

  // Malformed JSON must be a 400 in the OpenAI shape, not Fastify's own body; depth, strings and keys within edge.limits.
  // Read as a Buffer: a large body is decoded, depth-checked and parsed in separate event-loop turns.
  const badJson = (e: unknown): GatewayError => (e instanceof GatewayError ? e : errors.badRequest("We could not parse the JSON body of your request.", null, "invalid_json"));
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (req, body, done) => {
    const encoded = contentEncodingError(req.headers["content-encoding"]);
    if (encoded) return done(encoded, undefined);
    if (body.length < YIELD_BYTES) {
      let value: unknown;
      try {
        value = parseSmallJsonBody(body, config.edge.limits);
      } catch (e) {
        return done(badJson(e), undefined);
      }
      return done(null, value);
    }
    parseJsonBodyYielding(body, config.edge.limits).then(
      (value) => done(null, value),
      (e: unknown) => done(badJson(e), undefined),
    );
  });

  app.setErrorHandler((err, req, reply) => {
    const ge = toEdgeError(err, config.edge.body_limit_bytes);
    if (ge.status >= 500 && !(err instanceof GatewayError)) logger.error({ err, requestId: req.id }, "unhandled edge error");
    sendError(reply, ge, req.id);
  });
  app.setNotFoundHandler(notFound);

  app.get("/healthz", async () => "ok\n");
  app.get("/readyz", async (_req, reply) => {
    if (draining) return reply.code(503).send("draining\n");
    const ok = await deps.ready().catch(() => false);
    return reply.code(ok ? 200 : 503).send(ok ? "ready\n" : "not ready\n");
  });
  const metricsGuard = metricsAccess(deps.metricsToken, (req: FastifyRequest) => authenticate(req));
  app.get("/metrics", async (req, reply) => {
    await metricsGuard(req);
    reply.header("content-type", deps.registry.contentType);
    return deps.registry.metrics();
  });

  const authenticate = (req: FastifyRequest): Promise<AuthContext> =>
    auth.authenticate(req.headers.authorization, headerValue(req.headers["x-api-key"]));

  app.get("/v1/models", async (req) => {
    await authenticate(req);
    const res = await deps.clients.router.listModels({});
    return {
      object: "list",
      data: res.models.map((m) => ({ id: m.id, object: "model", created: 0, owned_by: m.ownedBy, context_window: Number(m.contextWindow), capabilities: m.capabilities, llmgw_alias: m.alias })),
    };
  });

  app.get<{ Params: { id: string } }>("/v1/models/:id", async (req) => {
    await authenticate(req);
    const res = await deps.clients.router.listModels({});
    const m = res.models.find((x) => x.id === req.params.id);
    if (!m) throw errors.modelNotFound(req.params.id);
    return { id: m.id, object: "model", created: 0, owned_by: m.ownedBy };
  });

  app.post("/v1/chat/completions", async (req, reply) => {
    const who = await authenticate(req);
    const v = validateChatRequest(req.body);
    if (!v.ok) throw v.error;
    const result = await pipeline.handle({ ...callBase(req, reply, who), body: v.value, sessionId: sessionIdOf(req, v.value.user) });
    if (result.type === "json") {
      reply.headers(result.headers);
      // The executor's bytes of the answer when we have them: no second JSON.stringify of it here.
      const bytes = answerBytes(result);
      if (bytes) return reply.type(JSON_UTF8).send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return result.body;
    }
    // SSE: we own the socket from here on.
    reply.hijack();
    const res = reply.raw;
    openSse(res, result.headers);
    try {
      let open = true;
      for await (const data of result.chunks) {
        // A client gone mid-stream: stop (leaving the loop ends the call and frees its provider slot).
        if (!(open = await writeSse(res, `data: ${data}\n\n`))) break;
      }
      res.end(open ? "data: [DONE]\n\n" : undefined);
    } catch (e) {
      logger.warn({ err: e instanceof Error ? e.message : String(e), requestId: req.id }, "stream aborted");
      res.end();
    }
  });

  registerAdminRoutes(app, deps, authenticate, (keyId) => auth.forgetKeyId(keyId));
  registerRateLimitRoutes(app, deps, authenticate);
  registerBatchRoutes(app, deps, authenticate);
  registerPolicyRoutes(app, deps, authenticate);
  registerDashboardRoutes(app, deps, authenticate);
  registerAnthropicRoutes(app, { deps, pipeline, authenticate, toError: (e) => toEdgeError(e, config.edge.body_limit_bytes) });
  registerResponsesRoutes(app, { deps, pipeline, authenticate });
  registerEmbeddingsRoutes(app, deps, authenticate, outbox);
  registerShadowRoutes(app, deps, authenticate);
  registerCacheRoutes(app, deps, authenticate);

  return {
    app,
    outbox,
    auth,
    async drain(timeoutMs) {
      draining = true;
      await app.close();
      // Answers already written may still be waiting for their class (a named model is classified after
      // the answer): their RequestCompleted must reach the outbox before it is flushed.
      const until = Date.now() + timeoutMs;
      await Promise.race([pipeline.idle(), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
      await outbox.flush(Math.max(0, until - Date.now()));
      outbox.stop();
    },
  };
}

/** A 404 in the shape of the API the path is under: Anthropic's below /v1/messages, OpenAI's elsewhere. */
function notFound(req: FastifyRequest, reply: FastifyReply): void {
  const path = req.url.split("?")[0] ?? "";
  const e = errors.notFound(`Unknown route ${req.method} ${path}.`);
  if (path === "/v1/messages" || path.startsWith("/v1/messages/")) sendAnthropicError(reply, e, req.id);
  else sendError(reply, e, req.id);
}

function sendError(reply: FastifyReply, e: GatewayError, requestId: string): void {
  if (reply.sent || reply.raw.headersSent) return;
  reply.headers(e.responseHeaders());
  reply.header("x-llmgw-request-id", requestId);
  void reply.code(e.status).send(e.toBody());
}

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message?: string;
}

/**
 * Anything a route throws, in our one error shape: our own GatewayErrors as they are, Connect errors
 * from the services by the one table (libs/errors/connect-to-openai.ts), Fastify's own errors (body too
 * large, bad content type...) by their codes, anything else a 500 with a safe message.
 */
function toEdgeError(err: unknown, bodyLimit: number): GatewayError {
  if (isGatewayError(err)) return err;
  if (err instanceof ConnectError) return connectToOpenAI(err);
  const fe = err as FastifyLikeError;
  if (fe.code === "FST_ERR_CTP_BODY_TOO_LARGE") return errors.tooLarge(bodyLimit);
  if (fe.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") return new GatewayError({ status: 415, message: "Content-Type must be application/json.", type: "invalid_request_error", code: "unsupported_media_type" });
  if (fe.code === "FST_ERR_CTP_EMPTY_JSON_BODY") return errors.badRequest("Request body is empty.", null, "invalid_json");
  if (fe.code === "ECONNREFUSED" || fe.code === "UNAVAILABLE") return errors.unavailable("A gateway service is unavailable; try again.", 1);
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) return errors.badRequest(fe.message ?? "Bad request.");
  return errors.internal();
}
