import { connect } from "node:net";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { limitsSchema } from "#libs/config/limits.ts";
import { isGatewayError } from "#libs/errors/openai-error.ts";
import { inputGuardOptions, registerInputGuards } from "./input-guards.ts";

let draining = false;
let app: FastifyInstance;

beforeAll(async () => {
  app = Fastify({ ...inputGuardOptions() });
  registerInputGuards(app, limitsSchema.parse({ url_chars: 200, messages: 3, tools: 2 }), () => draining, (_req, reply) => void reply.code(404).send({ unknown: true }));
  app.setErrorHandler((err, _req, reply) => {
    if (isGatewayError(err)) return reply.code(err.status).send(err.toBody());
    return reply.code(500).send({ unexpected: String(err) });
  });
  app.get("/items/:id", async (req) => ({ params: req.params, query: req.query }));
  app.post("/chat", async () => ({ ok: true }));
  await app.listen({ port: 0, host: "127.0.0.1" });
});
afterAll(() => app.close());

const shaped = (body: string) => JSON.parse(body) as { error: { message: string; type: string; param: string | null; code: string | null } };

describe("input guards", () => {
  it("refuse bad query parameters and path ids with a 400 naming the field", async () => {
    for (const [url, param, code] of [
      ["/items/a?since=1d&since=2d", "since", "duplicate_parameter"],
      ["/items/a%00b", "id", "invalid_characters"],
      ["/items/a?tenant_id=%00", "tenant_id", "invalid_characters"],
    ] as const) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(400);
      expect(shaped(res.body).error).toMatchObject({ param, code, type: "invalid_request_error" });
    }
    expect((await app.inject({ url: "/items/ok?since=7d" })).statusCode).toBe(200);
  });

  it("answer Fastify's own errors in the OpenAI shape: bad URL 400, long path parameter and long URL 414", async () => {
    const bad = await app.inject({ url: "/items/%E0%A4%A" });
    expect([bad.statusCode, shaped(bad.body).error.code]).toEqual([400, "invalid_url"]);
    const longParam = await app.inject({ url: `/items/${"x".repeat(150)}` });
    expect([longParam.statusCode, shaped(longParam.body).error.code]).toEqual([414, "uri_too_long"]);
    const longUrl = await app.inject({ url: `/items/a?q=${"y".repeat(300)}` });
    expect([longUrl.statusCode, shaped(longUrl.body).error.code]).toEqual([414, "uri_too_long"]);
  });

  it("refuse too many messages or tools, naming the limit", async () => {
    const res = await app.inject({ method: "POST", url: "/chat", payload: { messages: [1, 2, 3, 4] } });
    expect([res.statusCode, shaped(res.body).error.param]).toEqual([400, "messages"]);
    expect(shaped(res.body).error.message).toContain("edge.limits.messages");
    const tools = await app.inject({ method: "POST", url: "/chat", payload: { messages: [1], tools: [1, 2, 3] } });
    expect([tools.statusCode, shaped(tools.body).error.code]).toEqual([400, "too_many_tools"]);
  });

  it("answer 503 in the OpenAI shape while draining", async () => {
    draining = true;
    const res = await app.inject({ url: "/items/a" });
    draining = false;
    expect([res.statusCode, shaped(res.body).error.type, res.headers.connection]).toEqual([503, "service_unavailable", "close"]);
  });

  it("answer malformed HTTP and oversized headers on the raw socket in the OpenAI shape", async () => {
    const port = (app.server.address() as { port: number }).port;
    const send = (bytes: string) =>
      new Promise<string>((resolve) => {
        const chunks: Buffer[] = [];
        const s = connect({ port, host: "127.0.0.1" }, () => s.write(bytes));
        s.on("data", (c: Buffer) => chunks.push(c));
        s.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
        s.on("error", () => undefined);
      });
    const garbage = await send("GARBAGE\r\n\r\n");
    expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
    expect(shaped(garbage.split("\r\n\r\n")[1] ?? "").error.code).toBe("malformed_request");
    const big = await send(`GET /items/a HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 2_000 }, (_, i) => `X-H${i}: vvvvvvvvvv`).join("\r\n")}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1\.1 431 /);
    expect(shaped(big.split("\r\n\r\n")[1] ?? "").error.code).toBe("request_header_fields_too_large");
  });
});
