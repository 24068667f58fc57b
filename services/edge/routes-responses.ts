// The OpenAI Responses API on the edge: POST /v1/responses (plain and streamed), GET and DELETE
// /v1/responses/{id}, GET /v1/responses/{id}/input_items. Each request is translated to a chat request and run by the same pipeline as
// /v1/chat/completions (classified, cached, routed, budgeted, billed), and its answer translated back
// (services/edge/responses/). Responses are stored per tenant in the ledger's database; a
// continuation (previous_response_id) is rebuilt from the stored chain and kept on the model that
// served the previous turn, so its provider's prompt cache stays warm.
import { openSse, writeSse } from "#libs/http/sse.ts";
import type OpenAI from "openai";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { errors } from "#libs/errors/openai-error.ts";
import type { AuthContext } from "./auth.ts";
import type { ChatPipeline } from "./chat-pipeline.ts";
import type { EdgeDeps } from "./deps.ts";
import { requestFacts } from "./messages.ts";
import { callBase, sessionIdOf } from "./request-meta.ts";
import { responseIdOf } from "./responses/ids.ts";
import { listedItems, page, pageQuery } from "./responses/input-items.ts";
import { validateResponsesRequest, type ResponsesRequest } from "./responses/request-schema.ts";
import { responseNotFound, ResponseStoreClient, type Conversation } from "./responses/store.ts";
import { responseEvents, type ResponseEvent } from "./responses/stream-events.ts";
import { inputItemsOf, itemsToMessages, toChatRequest } from "./responses/to-chat.ts";
import { outputOfCompletion, responseObject, responseUsage, type ResponseFrame, type ResponseObject } from "./responses/to-response.ts";
import { validateChatRequest } from "./validate.ts";

export interface ResponsesRouteDeps {
  deps: EdgeDeps;
  pipeline: ChatPipeline;
  authenticate: (req: FastifyRequest) => Promise<AuthContext>;
}

export function registerResponsesRoutes(app: FastifyInstance, { deps, pipeline, authenticate }: ResponsesRouteDeps): void {
  const store = new ResponseStoreClient(deps.clients.ledger);
  const { config, logger } = deps;

  app.post("/v1/responses", async (req, reply) => {
    const who = await authenticate(req);
    const v = validateResponsesRequest(req.body, config.edge.limits.messages);
    if (!v.ok) throw v.error;
    const r = v.value;
    const prior = r.previous_response_id ? await store.conversation(who.tenantId, r.previous_response_id) : undefined;
    const input = await store.resolveReferences(who.tenantId, inputItemsOf(r.input), prior?.items ?? []);
    const messages = itemsToMessages([...(prior?.items ?? []), ...input]);
    const routed = toChatRequest(r, messages, r.model);
    const model = modelFor(config, r, prior, routed);
    const chat = validateChatRequest(model === r.model ? routed : { ...routed, model });
    // Input of nothing the models take (e.g. only reasoning items) leaves no message to send.
    if (!chat.ok) throw errors.badRequest("'input' holds no message or tool output to answer.", "input");
    const frame: ResponseFrame = { id: responseIdOf(req.id), createdAt: Math.floor(Date.now() / 1000), req: r, previousResponseId: r.previous_response_id ?? null, store: r.store !== false };
    // One conversation, one session: the router keeps its tier and provider across turns.
    const result = await pipeline.handle({ ...callBase(req, reply, who), body: chat.value, sessionId: sessionIdOf(req, r.user ?? prior?.rootId) });
    const save = async (response: ResponseObject): Promise<void> => {
      if (!frame.store) return;
      try {
        await store.save(who.tenantId, response, input, config.models[response.model]?.provider ?? "");
      } catch (e) {
        // The answer is paid for and goes out; only its later retrieval is lost.
        logger.warn({ err: e instanceof Error ? e.message : String(e), requestId: req.id }, "response not stored");
      }
    };

    if (result.type === "json") {
      const completion = result.body;
      const answered = outputOfCompletion(frame.id, completion);
      const response = responseObject(frame, { ...answered, model: completion.model, usage: responseUsage(completion.usage) });
      await save(response);
      reply.headers(result.headers);
      return response;
    }

    const events = responseEvents(result.chunks, frame, result.headers["x-llmgw-model"] ?? model, async (final, gateway) => {
      await save(final);
      // The pipeline's own figures for the stream (cost, baseline, savings...); a cached answer costs nothing.
      return gateway ?? { request_id: req.id, model: final.model, cache: result.headers["x-llmgw-cache"] ?? "", cost_usd: result.headers["x-llmgw-cost-usd"] ?? null };
    });
    await sendEvents(reply, result.headers, events, logger, req.id);
  });

  app.get<{ Params: { id: string } }>("/v1/responses/:id", async (req) => {
    const who = await authenticate(req);
    const found = await store.get(who.tenantId, req.params.id);
    if (!found) throw responseNotFound(req.params.id);
    return found;
  });

  app.get<{ Params: { id: string }; Querystring: Record<string, unknown> }>("/v1/responses/:id/input_items", async (req) => {
    const who = await authenticate(req);
    const q = pageQuery(req.query);
    const items = await store.input(who.tenantId, req.params.id);
    if (!items) throw responseNotFound(req.params.id);
    return page(listedItems(req.params.id, items), q);
  });

  app.delete<{ Params: { id: string } }>("/v1/responses/:id", async (req) => {
    const who = await authenticate(req);
    if (!(await store.delete(who.tenantId, req.params.id))) throw responseNotFound(req.params.id);
    return { id: req.params.id, object: "response", deleted: true };
  });
}

/**
 * A routed ("auto") continuation stays on the model that served the previous turn, passed to the
 * router by name: its provider has the conversation's prefix in its prompt cache. Unless that model
 * cannot take this turn (it adds tools, images or JSON mode the model lacks, or the model is gone from
 * the config): then the turn is routed afresh. A model the client names is honoured as always.
 */
function modelFor(config: EdgeDeps["config"], r: ResponsesRequest, prior: Conversation | undefined, chat: OpenAI.Chat.ChatCompletionCreateParams): string {
  const pinned = prior?.last.model;
  if (!pinned || !config.edge.aliases.includes(r.model)) return r.model;
  const m = config.models[pinned];
  if (!m) return r.model;
  const needs = requestFacts(chat, m.max_output_tokens).capabilities.filter((c) => c !== "streaming");
  return needs.every((c) => (m.capabilities as readonly string[]).includes(c)) ? pinned : r.model;
}

/** SSE with named events (`event: <type>`), as OpenAI streams responses. */
async function sendEvents(reply: FastifyReply, headers: Record<string, string>, events: AsyncIterable<ResponseEvent>, logger: EdgeDeps["logger"], requestId: string): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  openSse(res, headers);
  try {
    for await (const e of events) {
      // A client gone mid-stream: stop (leaving the loop ends the call and frees its provider slot).
      if (!(await writeSse(res, `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`))) break;
    }
  } catch (e) {
    logger.warn({ err: e instanceof Error ? e.message : String(e), requestId }, "responses stream aborted");
  }
  res.end();
}
