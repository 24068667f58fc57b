// Bad admin inputs are 400s naming the field (never a 500, never a default that acts on something
// else), and unknown routes are 404s in the shape of the API they are under. The services are fakes
// that record what reached them: a refused request must reach none.
import { createClient, createRouterTransport, type Client, type ServiceImpl } from "@connectrpc/connect";
import type { DescService } from "@bufbuild/protobuf";
import { gzipSync } from "node:zlib";
import { Registry } from "prom-client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_BUS_NAMES } from "#libs/bus/subjects.ts";
import { loadConfig } from "#libs/config/load.ts";
import { CacheService } from "#libs/gen/llmgw/cache/v1/cache_pb.ts";
import { ClassifierService } from "#libs/gen/llmgw/classifier/v1/classifier_pb.ts";
import { EvaluatorService } from "#libs/gen/llmgw/evaluator/v1/evaluator_pb.ts";
import { ExecutorService } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { LedgerService } from "#libs/gen/llmgw/ledger/v1/ledger_pb.ts";
import { RouterService } from "#libs/gen/llmgw/router/v1/router_pb.ts";
import { silentLogger } from "#libs/log/logger.ts";
import { buildEdgeApp, type EdgeApp } from "./app.ts";
import type { EdgeClients } from "./deps.ts";

const ADMIN_KEY = "llmgw-admin-inputs-admin-key-0123456789";
const TENANT_KEY = "llmgw-admin-inputs-tenant-key-0123456789";

const client = <S extends DescService>(service: S, impl: Partial<ServiceImpl<S>>): Client<S> =>
  createClient(service, createRouterTransport((r) => r.service(service, impl)));

/** Fake services; `calls` names each RPC that reached one, with its request. */
function fakeClients(calls: [string, unknown][]): EdgeClients {
  const seen = <T>(name: string, req: unknown, v: T): T => {
    calls.push([name, req]);
    return v;
  };
  return {
    ledger: client(LedgerService, {
      verifyKey: (req) => {
        if (req.key === ADMIN_KEY) return { valid: true, keyId: "key_admin", tenantId: "acme", admin: true };
        if (req.key === TENANT_KEY) return { valid: true, keyId: "key_tenant", tenantId: "acme", admin: false };
        return { valid: false };
      },
      listKeys: (req) => seen("listKeys", req, { keys: [{ keyId: "key_0123456789abcdef", tenantId: "acme", name: "", admin: false, prefix: "llmgw-", createdAt: "", revoked: false }] }),
      setBudget: (req) => seen("setBudget", req, {}),
      listBudgets: (req) => seen("listBudgets", req, { budgets: [] }),
      getSpend: (req) => seen("getSpend", req, { rows: [] }),
      setRateLimits: (req) => seen("setRateLimits", req, {}),
    }),
    classifier: client(ClassifierService, {}),
    cache: client(CacheService, { invalidate: (req) => seen("invalidate", req, { removed: 0n }) }),
    router: client(RouterService, {
      getPolicy: (req) => seen("getPolicy", req, {}),
      revertPolicy: (req) => seen("revertPolicy", req, {}),
    }),
    executor: client(ExecutorService, {}),
    evaluator: client(EvaluatorService, { getDowngradeReport: (req) => seen("getDowngradeReport", req, { findings: [] }) }),
  };
}

describe("edge: admin inputs and unknown routes", () => {
  const calls: [string, unknown][] = [];
  let edge: EdgeApp;

  const inject = async (method: "GET" | "POST" | "PUT", url: string, payload?: unknown, key = ADMIN_KEY) =>
    edge.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${key}`, ...(payload === undefined ? {} : { "content-type": "application/json" }) },
      ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
    });

  /** A 400 in the OpenAI shape naming `param`, and no service call. */
  const expectBadRequest = (res: Awaited<ReturnType<typeof inject>>, param: string | null) => {
    expect(res.statusCode).toBe(400);
    const body = res.json() as { error: Record<string, unknown> };
    expect(Object.keys(body).sort()).toEqual(["error"]);
    expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
    expect(body.error).toMatchObject({ type: "invalid_request_error", param });
    expect(calls.filter(([name]) => name !== "verifyKey")).toEqual([]);
  };

  beforeAll(async () => {
    const config = loadConfig({ env: {} });
    config.batches.worker = false;
    edge = buildEdgeApp({
      config,
      clients: fakeClients(calls),
      events: { names: DEFAULT_BUS_NAMES, publish: async () => {} },
      pricing: { cost: () => ({ usd: "0", unpriced: false }), worstCaseUsd: () => "0" },
      logger: silentLogger(),
      registry: new Registry(),
      ready: async () => true,
    });
    await edge.app.ready();
  });
  afterAll(async () => {
    await edge?.drain(1_000);
  });
  beforeEach(() => {
    calls.length = 0;
  });

  describe("POST /v1/llmgw/policy/revert", () => {
    it.each([1e20, 2 ** 63, Number.MAX_SAFE_INTEGER + 1, -1, 0.5, "1"])("refuses version %j with a 400 on 'version'", async (version) => {
      expectBadRequest(await inject("POST", "/v1/llmgw/policy/revert", { version }), "version");
    });

    it("passes a safe integer version on", async () => {
      const res = await inject("POST", "/v1/llmgw/policy/revert", { version: Number.MAX_SAFE_INTEGER });
      expect(res.statusCode).toBe(200);
      expect(calls).toEqual([["revertPolicy", expect.objectContaining({ version: BigInt(Number.MAX_SAFE_INTEGER) })]]);
    });
  });

  describe("GET /v1/llmgw/dashboard", () => {
    it.each(["100000000d", "0h", "2h", "constructor", "toString", "2024-01-01T00:00:00Z", ""])("refuses window=%s with a 400 on 'window'", async (window) => {
      expectBadRequest(await inject("GET", `/v1/llmgw/dashboard?window=${encodeURIComponent(window)}`), "window");
    });
  });

  describe("GET /v1/llmgw/shadow/report", () => {
    // The report covers every recorded sample: a 'since' it would ignore is refused, bad or not.
    it.each(["abc", "7d", "2024-01-01T00:00:00Z"])("refuses since=%s with a 400 on 'since'", async (since) => {
      expectBadRequest(await inject("GET", `/v1/llmgw/shadow/report?since=${encodeURIComponent(since)}`), "since");
    });

    it("answers without one", async () => {
      const res = await inject("GET", "/v1/llmgw/shadow/report");
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ object: "list", tenant_id: null, data: [] });
    });
  });

  describe("POST /v1/llmgw/cache/invalidate", () => {
    // Read loosely, each of these invalidated the caller's own tenant.
    it.each([
      [[1], null],
      [{ tenant_id: 5 }, "tenant_id"],
    ])("refuses %j with a 400", async (body, param) => {
      expectBadRequest(await inject("POST", "/v1/llmgw/cache/invalidate", body), param);
    });

    it("invalidates the tenant an admin names", async () => {
      const res = await inject("POST", "/v1/llmgw/cache/invalidate", { tenant_id: "globex" });
      expect(res.statusCode).toBe(200);
      expect(calls).toEqual([["invalidate", expect.objectContaining({ tenantId: "globex" })]]);
    });
  });

  describe("PUT /v1/llmgw/budgets", () => {
    const budget = { tenant_id: "acme", period: "day", soft_limit_usd: 1, hard_limit_usd: 2 };

    it.each(["x".repeat(65), "../../x y 😀", "a b", ""])("refuses tenant_id %j as key creation does", async (tenant_id) => {
      expectBadRequest(await inject("PUT", "/v1/llmgw/budgets", { ...budget, tenant_id }), "tenant_id");
      expectBadRequest(await inject("POST", "/v1/llmgw/keys", { tenant_id }), "tenant_id");
    });

    it.each(["key nope", "../key", "k".repeat(65), ""])("refuses a malformed key_id %j", async (key_id) => {
      expectBadRequest(await inject("PUT", "/v1/llmgw/budgets", { ...budget, key_id }), "key_id");
    });

    it("refuses a key_id the tenant has no active key of", async () => {
      const res = await inject("PUT", "/v1/llmgw/budgets", { ...budget, key_id: "key_ffffffffffffffff" });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: { type: "invalid_request_error", param: "key_id" } });
      expect(calls.map(([name]) => name)).not.toContain("setBudget");
    });

    it.each([
      [100, 1],
      ["1000000000", "999999999.999999999999"],
    ])("refuses a soft limit %j over the hard limit %j", async (soft_limit_usd, hard_limit_usd) => {
      expectBadRequest(await inject("PUT", "/v1/llmgw/budgets", { ...budget, soft_limit_usd, hard_limit_usd }), "soft_limit_usd");
    });

    it("sets a budget for a key of the tenant, soft at or under hard", async () => {
      const res = await inject("PUT", "/v1/llmgw/budgets", { ...budget, key_id: "key_0123456789abcdef", soft_limit_usd: "2", hard_limit_usd: 2 });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ tenant_id: "acme", key_id: "key_0123456789abcdef", period: "day", soft_limit_usd: 2, hard_limit_usd: 2 });
      expect(calls.map(([name]) => name)).toEqual(["listKeys", "setBudget"]);
    });
  });

  describe("unknown routes", () => {
    it.each([
      ["GET", "/v1/messages"],
      ["POST", "/v1/messages/batches"],
      ["GET", "/v1/messages/abc"],
      ["GET", "/v1/messages/abc?x=1"],
    ] as const)("%s %s is a 404 in Anthropic's shape", async (method, url) => {
      const res = await inject(method, url, method === "POST" ? {} : undefined);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ type: "error", error: { type: "not_found_error", message: expect.stringContaining(url.split("?")[0] ?? "") } });
      expect(res.headers["request-id"]).toBeTruthy();
    });

    it.each([
      ["POST", "/v1/chat/completions%00"],
      ["GET", "/v1/models%00/x"],
      ["POST", "/v1/messagesx"],
      ["GET", "/v1/nothing"],
    ] as const)("%s %s is a 404 in OpenAI's shape", async (method, url) => {
      const res = await inject(method, url, method === "POST" ? {} : undefined);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ error: { message: expect.stringMatching(/^Unknown route/), type: "not_found_error", param: null, code: expect.anything() } });
    });

    it("an unknown route's body is not read: bad JSON there is still a 404", async () => {
      const res = await edge.app.inject({ method: "POST", url: "/v1/nothing", headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" }, payload: "{" });
      expect(res.statusCode).toBe(404);
    });
  });

  describe("Content-Encoding", () => {
    const send = (url: string, encoding: string, payload: Buffer) =>
      edge.app.inject({ method: "POST", url, headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json", "content-encoding": encoding }, payload });
    const json = Buffer.from(JSON.stringify({ tenant_id: "acme" }));

    it.each(["gzip", "br", "deflate, identity"])("%s on a body is a 415 saying encodings are not supported", async (encoding) => {
      const res = await send("/v1/llmgw/cache/invalidate", encoding, gzipSync(json));
      expect(res.statusCode).toBe(415);
      expect(res.json()).toEqual({ error: { message: expect.stringMatching(/Content-Encoding/), type: "invalid_request_error", param: null, code: "unsupported_content_encoding" } });
      expect(calls.filter(([name]) => name !== "verifyKey")).toEqual([]);
    });

    it("is a 415 in Anthropic's shape on /v1/messages", async () => {
      const res = await send("/v1/messages", "gzip", gzipSync(json));
      expect(res.statusCode).toBe(415);
      expect(res.json()).toEqual({ type: "error", error: { type: "invalid_request_error", message: expect.stringMatching(/Content-Encoding/) } });
    });

    it("identity is no encoding", async () => {
      const res = await send("/v1/llmgw/cache/invalidate", "identity", json);
      expect(res.statusCode).toBe(200);
    });
  });
});
