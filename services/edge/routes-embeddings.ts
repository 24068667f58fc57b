// POST /v1/embeddings: the OpenAI embeddings API, exact-cached per tenant, budgeted and billed.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AuthContext } from "./auth.ts";
import type { EdgeDeps } from "./deps.ts";
import { embeddingsMetrics } from "./embeddings/metrics.ts";
import { EmbeddingsPipeline } from "./embeddings/pipeline.ts";
import { validateEmbeddingsRequest } from "./embeddings/validate.ts";
import type { EventOutbox } from "./outbox.ts";
import { callBase } from "./request-meta.ts";

export function registerEmbeddingsRoutes(app: FastifyInstance, deps: EdgeDeps, authenticate: (req: FastifyRequest) => Promise<AuthContext>, outbox: EventOutbox): void {
  const pipeline = new EmbeddingsPipeline(deps, outbox, embeddingsMetrics(deps.registry));

  app.post("/v1/embeddings", async (req, reply) => {
    const who = await authenticate(req);
    const v = validateEmbeddingsRequest(req.body);
    if (!v.ok) throw v.error;
    const result = await pipeline.handle({ ...callBase(req, reply, who), body: v.value });
    reply.headers(result.headers);
    return result.body;
  });
}
