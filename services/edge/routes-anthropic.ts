// The Anthropic Messages API on the edge: POST /v1/messages (JSON and SSE) and
// POST /v1/messages/count_tokens. Each message goes through the same chat pipeline as
// /v1/chat/completions (classified, cached, routed, budgeted, billed): the request is translated to
// the pipeline's chat request and the answer back (services/edge/anthropic/). Errors on these routes
// are Anthropic-shaped, so the Anthropic SDK raises its own classes; anthropic-version and
// anthropic-beta headers are accepted and ignored.
import { openSse, writeSse } from "#libs/http/sse.ts";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { GatewayError } from "#libs/errors/openai-error.ts";
import { errors } from "#libs/errors/openai-error.ts";
import { countRequestTokens } from "./anthropic/count-tokens.ts";
import { toAnthropicError } from "./anthropic/errors.ts";
import { messageId, toAnthropicMessage } from "./anthropic/from-chat.ts";
import { isKnownModel, resolveModel } from "./anthropic/model.ts";
import { validateCountTokensRequest, validateMessagesRequest } from "./anthropic/request-schema.ts";
import { ChatToAnthropicStream, sseFrame } from "./anthropic/stream.ts";
import { toChatRequest } from "./anthropic/to-chat.ts";
import type { StreamEvent } from "./anthropic/wire.ts";
import type { AuthContext } from "./auth.ts";
import type { ChatPipeline } from "./chat-pipeline.ts";
import type { EdgeDeps } from "./deps.ts";
import { callBase, sessionIdOf } from "./request-meta.ts";

export interface AnthropicRouteDeps {
  deps: Pick<EdgeDeps, "config" | "pricing" | "logger">;
  pipeline: Pick<ChatPipeline, "handle">;
  authenticate: (req: FastifyRequest) => Promise<AuthContext>;
  /** The edge's one conversion of anything a route throws into a GatewayError. */
  toError: (err: unknown) => GatewayError;
}

export function registerAnthropicRoutes(app: FastifyInstance, r: AnthropicRouteDeps): void {
  const { deps, pipeline, authenticate } = r;
  // An encapsulated scope: its error handler (Anthropic's shape) covers these routes only, including
  // errors raised before the handler runs (bad JSON, body too large).
  void app.register(async (scope) => {
    scope.setErrorHandler((err, req, reply) => {
      const ge = r.toError(err);
      if (ge.status >= 500 && !(err instanceof GatewayError)) deps.logger.error({ err, requestId: req.id }, "unhandled edge error");
      sendAnthropicError(reply, ge, req.id);
    });

    scope.post("/v1/messages", async (req, reply) => {
      const who = await authenticate(req);
      const v = validateMessagesRequest(req.body);
      if (!v.ok) throw v.error;
      const body = toChatRequest(v.value, resolveModel(deps, v.value.model));
      const result = await pipeline.handle({ ...callBase(req, reply, who), body, sessionId: sessionIdOf(req, v.value.metadata?.user_id) });
      if (result.type === "json") {
        reply.headers({ ...result.headers, "request-id": req.id });
        return toAnthropicMessage(result.body, req.id);
      }
      // SSE: we own the socket from here on.
      reply.hijack();
      const res = reply.raw;
      openSse(res, { ...result.headers, "request-id": req.id });
      // A client gone mid-stream throws out of the loop below, which ends the call and frees its provider slot.
      const write = async (events: StreamEvent[]): Promise<void> => {
        for (const e of events) if (!(await writeSse(res, sseFrame(e)))) throw new Error("client disconnected");
      };
      const model = result.headers["x-llmgw-model"] || body.model;
      // message_start reports the input up front, as Anthropic does; the provider's count follows in message_delta.
      const stream = new ChatToAnthropicStream(messageId(req.id), model, result.promptTokens());
      try {
        for await (const data of result.chunks) await write(stream.push(data));
        await write(stream.end());
      } catch (e) {
        deps.logger.warn({ err: e instanceof Error ? e.message : String(e), requestId: req.id }, "stream aborted");
        if (!res.destroyed) await write(stream.fail(toAnthropicError(r.toError(e)).body.error)).catch(() => undefined);
      }
      res.end();
    });

    scope.post("/v1/messages/count_tokens", async (req) => {
      await authenticate(req);
      const v = validateCountTokensRequest(req.body);
      if (!v.ok) throw v.error;
      const model = resolveModel(deps, v.value.model);
      if (!isKnownModel(deps, model)) throw errors.modelNotFound(v.value.model);
      return { input_tokens: countRequestTokens(v.value) };
    });
  });
}

export function sendAnthropicError(reply: FastifyReply, e: GatewayError, requestId: string): void {
  if (reply.sent || reply.raw.headersSent) return;
  const { status, body } = toAnthropicError(e);
  reply.headers(e.responseHeaders());
  reply.header("x-llmgw-request-id", requestId);
  reply.header("request-id", requestId);
  void reply.code(status).send(body);
}
