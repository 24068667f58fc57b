// POST /v1/embeddings: the OpenAI embeddings API, exact-cached per tenant, budgeted and billed.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AuthContext } from "./auth.ts";
import type { EdgeDeps } from "./deps.ts";
import { embeddingsMetrics } from "./embeddings/metrics.ts";
import { EmbeddingsPipeline } from "./embeddings/pipeline.ts";
import { validateEmbeddingsRequest } from "./embeddings/validate.ts";
import type { EventOutbox } from "./outbox.ts";
import { cacheControlOf, traceIdOfRequest } from "./request-meta.ts";

export function registerEmbeddingsRoutes(app: FastifyInstance, deps: EdgeDeps, authenticate: (req: FastifyRequest) => Promise<AuthContext>, outbox: EventOutbox): void {
  const pipeline = new EmbeddingsPipeline(deps, outbox, embeddingsMetrics(deps.registry));

  app.post("/v1/embeddings", async (req, reply) => {
    const who = await authenticate(req);
    const v = validateEmbeddingsRequest(req.body);
    if (!v.ok) throw v.error;
    const abort = new AbortController();
    req.raw.on("close", () => {
      if (!reply.raw.writableEnded) abort.abort();
    });
    const result = await pipeline.handle({
      requestId: req.id,
      traceId: traceIdOfRequest(req),
      receivedAt: new Date(),
      t0: req.llmgwStart,
      auth: who,
      body: v.value,
      cacheControl: cacheControlOf(req),
      signal: abort.signal,
    });
    reply.headers(result.headers);
    return result.body;
  });
}
