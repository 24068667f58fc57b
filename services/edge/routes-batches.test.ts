// The multipart parser (batch file uploads, up to 32 MB) belongs to POST /v1/files alone: registered
// app-wide it handed every other route a Buffer past the JSON body limit, and the chat validator copied a
// 3 MB one key by key, ~400 MB of heap for one request (issue #11, found by the soak).
import { createClient, createRouterTransport } from "@connectrpc/connect";
import Fastify, { type FastifyInstance } from "fastify";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_BUS_NAMES } from "#libs/bus/subjects.ts";
import { loadConfig } from "#libs/config/load.ts";
import { silentLogger } from "#libs/log/logger.ts";
import { lazyClients } from "#libs/rpc/service-clients.ts";
import { registerBatchRoutes } from "./routes-batches.ts";

const BOUNDARY = "llmgw-test-boundary";
const multipart = (purpose: string): string =>
  [`--${BOUNDARY}`, 'Content-Disposition: form-data; name="purpose"', "", purpose, `--${BOUNDARY}`, 'Content-Disposition: form-data; name="file"; filename="in.jsonl"', "Content-Type: application/jsonl", "", "{}", `--${BOUNDARY}--`, ""].join("\r\n");

describe("batch routes: multipart bodies", () => {
  let app: FastifyInstance;
  /** What the JSON route beside the batch routes was handed as its body. */
  const seen: string[] = [];

  beforeAll(async () => {
    const config = loadConfig({ env: {} });
    app = Fastify();
    app.post("/json-route", async (req) => {
      seen.push(Buffer.isBuffer(req.body) ? "buffer" : typeof req.body);
      return { ok: true };
    });
    registerBatchRoutes(
      app,
      {
        config: { ...config, batches: { ...config.batches, worker: false } },
        // No RPC is answered: these requests end before any reaches the ledger.
        clients: lazyClients((_name, service) => createClient(service, createRouterTransport(() => undefined))),
        events: { names: DEFAULT_BUS_NAMES, publish: async () => {} },
        pricing: { cost: () => ({ usd: "0", unpriced: false }), worstCaseUsd: () => "0" },
        logger: silentLogger(),
        registry: new Registry(),
        ready: async () => true,
      },
      async () => ({ keyId: "key_1", tenantId: "acme", admin: false }),
    );
    await app.ready();
  });
  afterAll(() => app.close());

  it("refuses a multipart body on another route (415) without handing it a Buffer", async () => {
    const res = await app.inject({ method: "POST", url: "/json-route", headers: { "content-type": `multipart/form-data; boundary=${BOUNDARY}` }, payload: " ".repeat(100_000) });
    expect(res.statusCode).toBe(415);
    expect(seen).toEqual([]);
  });

  it("still parses the upload form on POST /v1/files", async () => {
    const res = await app.inject({ method: "POST", url: "/v1/files", headers: { "content-type": `multipart/form-data; boundary=${BOUNDARY}` }, payload: multipart("fine-tune") });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain(`'purpose' must be \\"batch\\" (got 'fine-tune')`);
  });
});
