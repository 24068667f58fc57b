// Issue #9: whatever Connect code a service answers with, every route of the edge answers with the
// status of the one mapping (libs/errors/connect-to-openai.ts) and the one OpenAI error body; a bad
// input reported by a service is a 4xx with its message, never a 500.
import { Code, ConnectError, createClient, createRouterTransport, type Client, type ServiceImpl } from "@connectrpc/connect";
import type { DescService, MessageInitShape } from "@bufbuild/protobuf";
import { Registry } from "prom-client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_BUS_NAMES } from "#libs/bus/subjects.ts";
import { loadConfig } from "#libs/config/load.ts";
import { serviceError } from "#libs/errors/connect-to-openai.ts";
import { CacheService } from "#libs/gen/llmgw/cache/v1/cache_pb.ts";
import { ClassifierService } from "#libs/gen/llmgw/classifier/v1/classifier_pb.ts";
import { EvaluatorService } from "#libs/gen/llmgw/evaluator/v1/evaluator_pb.ts";
import { ExecutorService } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { LedgerService, type BatchFileSchema, type BatchJobSchema } from "#libs/gen/llmgw/ledger/v1/ledger_pb.ts";
import { RouterService } from "#libs/gen/llmgw/router/v1/router_pb.ts";
import { silentLogger } from "#libs/log/logger.ts";
import { buildEdgeApp, type EdgeApp } from "./app.ts";
import type { EdgeClients, EdgeDeps } from "./deps.ts";

const ADMIN_KEY = "llmgw-error-mapping-admin-key-0123456789";
const SECRET = "pg: connection to 10.0.0.7:5432 refused (password for user llmgw)";
const BOUNDARY = "llmgw-test-boundary";
const encoder = new TextEncoder();

/** What the fake services do: `fail` is thrown by every RPC a route makes (the key lookup excepted). */
interface Faults {
  fail: ConnectError | undefined;
  /** Thrown by the key lookup for any key but the admin key (the admin key is cached after its first use anyway). */
  authFail: ConnectError | undefined;
}

const client = <S extends DescService>(service: S, impl: Partial<ServiceImpl<S>>): Client<S> =>
  createClient(service, createRouterTransport((r) => r.service(service, impl)));

function fakeClients(faults: Faults): EdgeClients {
  /** Each RPC of a route: throws the current fault, else answers. */
  const answer = <T>(v: T): T => {
    if (faults.fail) throw faults.fail;
    return v;
  };
  const json = (v: unknown) => encoder.encode(JSON.stringify(v));
  const batch = { id: "batch_provider_1", object: "batch", status: "in_progress", output_file_id: "file_provider_out" };
  const files = new Map<string, MessageInitShape<typeof BatchFileSchema>>();
  const jobs = new Map<string, MessageInitShape<typeof BatchJobSchema>>();
  return {
    ledger: client(LedgerService, {
      verifyKey: (req) => {
        if (req.key === ADMIN_KEY) return { valid: true, keyId: "key_admin", tenantId: "acme", admin: true };
        if (faults.authFail) throw faults.authFail;
        return { valid: false };
      },
      createKey: () => answer({ keyId: "key_new", key: "llmgw-new" }),
      listKeys: () => answer({ keys: [] }),
      revokeKey: () => answer({ revoked: true }),
      setBudget: () => answer({}),
      listBudgets: () => answer({ budgets: [] }),
      getSpend: () => answer({ rows: [] }),
      // The Batches API's state: just enough to hold one file and one batch.
      reserveBudget: () => answer({ admitted: true, state: "ok" }),
      putBatchFile: (req) => {
        const f = answer(req.file);
        if (f) files.set(f.id, f);
        return { file: f };
      },
      getBatchFile: (req) => {
        const f = answer(files.get(req.id));
        return f ? { found: true, file: f } : { found: false };
      },
      listBatchFiles: () => answer({ files: [...files.values()], hasMore: false }),
      deleteBatchFile: (req) => answer({ deleted: files.has(req.id) }),
      createBatchJob: (req) => {
        const j = answer(req.job);
        if (j) jobs.set(j.id, j);
        return { job: j };
      },
      getBatchJob: (req) => {
        const j = answer(jobs.get(req.id));
        return j ? { found: true, job: j } : { found: false };
      },
      listBatchJobs: () => answer({ jobs: [...jobs.values()], hasMore: false }),
      updateBatchJob: (req) => answer({ updated: true, job: req.job }),
    }),
    classifier: client(ClassifierService, { classify: () => answer({}) }),
    cache: client(CacheService, { invalidate: () => answer({ removed: 0n }) }),
    router: client(RouterService, {
      listModels: () => answer({ models: [{ id: "gpt-4o-mini", ownedBy: "openai", contextWindow: 128_000n, capabilities: [], alias: false }] }),
    }),
    executor: client(ExecutorService, {
      createBatch: () => answer({ batchJson: json(batch), provider: "openai" }),
      getBatch: () => answer({ batchJson: json(batch) }),
      getBatchOutput: () => answer({ content: new Uint8Array() }),
    }),
    evaluator: client(EvaluatorService, {}),
  };
}

/** The one place the test builds EdgeDeps (it may gain fields). */
function edgeDeps(clients: EdgeClients): EdgeDeps {
  const config = loadConfig({ env: {} });
  // The batch worker stays off: it would poll these fakes in the background.
  config.batches.worker = false;
  return {
    config,
    clients,
    events: { names: DEFAULT_BUS_NAMES, publish: async () => {} },
    pricing: { cost: () => ({ usd: "0", unpriced: false }), worstCaseUsd: () => "0" },
    logger: silentLogger(),
    registry: new Registry(),
    ready: async () => true,
  };
}

type Method = "GET" | "POST" | "PUT" | "DELETE";
interface Call {
  method: Method;
  url: string;
  payload?: unknown;
}

const batchLine = (model: string) => JSON.stringify({ custom_id: "1", method: "POST", url: "/v1/chat/completions", body: { model, messages: [{ role: "user", content: "hi" }] } });

function multipart(content: string): { payload: string; headers: Record<string, string> } {
  const payload = [
    `--${BOUNDARY}`,
    'Content-Disposition: form-data; name="purpose"',
    "",
    "batch",
    `--${BOUNDARY}`,
    'Content-Disposition: form-data; name="file"; filename="in.jsonl"',
    "Content-Type: application/jsonl",
    "",
    content,
    `--${BOUNDARY}--`,
    "",
  ].join("\r\n");
  return { payload, headers: { "content-type": `multipart/form-data; boundary=${BOUNDARY}` } };
}

describe("edge: service errors → one OpenAI error per Connect code, on every route", () => {
  const faults: Faults = { fail: undefined, authFail: undefined };
  let edge: EdgeApp;
  // Ids made while the services answer, for the routes that need an existing file or batch.
  const ids = { inputFile: "", batch: "" };

  const inject = async (c: Call, key = ADMIN_KEY) =>
    edge.app.inject({
      method: c.method,
      url: c.url,
      headers: { authorization: `Bearer ${key}`, ...(c.payload === undefined ? {} : { "content-type": "application/json" }) },
      ...(c.payload === undefined ? {} : { payload: JSON.stringify(c.payload) }),
    });

  const upload = async (content: string): Promise<string> => {
    const m = multipart(content);
    const res = await edge.app.inject({ method: "POST", url: "/v1/files", headers: { authorization: `Bearer ${ADMIN_KEY}`, ...m.headers }, payload: m.payload });
    expect(res.statusCode).toBe(200);
    return (res.json() as { id: string }).id;
  };

  beforeAll(async () => {
    edge = buildEdgeApp(edgeDeps(fakeClients(faults)));
    await edge.app.ready();
    ids.inputFile = await upload(batchLine("gpt-4o-mini"));
    const created = await inject({ method: "POST", url: "/v1/batches", payload: { input_file_id: ids.inputFile, endpoint: "/v1/chat/completions", completion_window: "24h" } });
    expect(created.statusCode).toBe(200);
    ids.batch = (created.json() as { id: string }).id;
  });
  afterAll(async () => {
    await edge?.drain(1_000);
  });
  beforeEach(() => {
    faults.fail = undefined;
    faults.authFail = undefined;
  });

  // Every route family that calls a service, and the RPC that fails under it.
  const routes: [string, () => Call][] = [
    ["chat completions (classifier.Classify)", () => ({ method: "POST", url: "/v1/chat/completions", payload: { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] } })],
    ["chat completions, stream (classifier.Classify)", () => ({ method: "POST", url: "/v1/chat/completions", payload: { model: "auto", stream: true, messages: [{ role: "user", content: "hi" }] } })],
    ["models (router.ListModels)", () => ({ method: "GET", url: "/v1/models" })],
    ["model (router.ListModels)", () => ({ method: "GET", url: "/v1/models/gpt-4o-mini" })],
    ["create key (ledger.CreateKey)", () => ({ method: "POST", url: "/v1/llmgw/keys", payload: { tenant_id: "acme", name: "ci" } })],
    ["list keys (ledger.ListKeys)", () => ({ method: "GET", url: "/v1/llmgw/keys" })],
    ["revoke key (ledger.RevokeKey)", () => ({ method: "DELETE", url: "/v1/llmgw/keys/key_x" })],
    ["set budget (ledger.SetBudget)", () => ({ method: "PUT", url: "/v1/llmgw/budgets", payload: { tenant_id: "acme", period: "day", hard_limit_usd: 5 } })],
    ["list budgets (ledger.ListBudgets)", () => ({ method: "GET", url: "/v1/llmgw/budgets" })],
    ["spend (ledger.GetSpend)", () => ({ method: "GET", url: "/v1/llmgw/spend?since=7d&group_by=model" })],
    ["cache invalidate (cache.Invalidate)", () => ({ method: "POST", url: "/v1/llmgw/cache/invalidate", payload: { tenant_id: "acme" } })],
    ["create batch (ledger.GetBatchFile)", () => ({ method: "POST", url: "/v1/batches", payload: { input_file_id: ids.inputFile, endpoint: "/v1/chat/completions", completion_window: "24h" } })],
    ["retrieve batch (ledger.GetBatchJob)", () => ({ method: "GET", url: `/v1/batches/${ids.batch}` })],
    ["list batches (ledger.ListBatchJobs)", () => ({ method: "GET", url: "/v1/batches?limit=2" })],
    ["cancel batch (ledger.GetBatchJob)", () => ({ method: "POST", url: `/v1/batches/${ids.batch}/cancel` })],
    ["file content (ledger.GetBatchFile)", () => ({ method: "GET", url: `/v1/files/${ids.inputFile}/content` })],
    ["list files (ledger.ListBatchFiles)", () => ({ method: "GET", url: "/v1/files" })],
    ["delete file (ledger.DeleteBatchFile)", () => ({ method: "DELETE", url: `/v1/files/${ids.inputFile}` })],
  ];

  // [what the service throws, status, type, code, param, Retry-After]
  const outcomes: [string, () => ConnectError, number, string, string, string | null, string | undefined][] = [
    ["InvalidArgument", () => new ConnectError("bad x", Code.InvalidArgument), 400, "invalid_request_error", "invalid_argument", null, undefined],
    ["InvalidArgument with param", () => serviceError("bad x", Code.InvalidArgument, { param: "since" }), 400, "invalid_request_error", "invalid_argument", "since", undefined],
    ["FailedPrecondition", () => new ConnectError("bad x", Code.FailedPrecondition), 400, "invalid_request_error", "failed_precondition", null, undefined],
    ["NotFound", () => new ConnectError("bad x", Code.NotFound), 404, "not_found_error", "not_found", null, undefined],
    ["AlreadyExists", () => new ConnectError("bad x", Code.AlreadyExists), 409, "invalid_request_error", "already_exists", null, undefined],
    ["ResourceExhausted", () => new ConnectError("bad x", Code.ResourceExhausted), 429, "rate_limit_error", "rate_limit_exceeded", null, "1"],
    ["ResourceExhausted (quota)", () => serviceError("bad x", Code.ResourceExhausted, { type: "insufficient_quota" }), 429, "insufficient_quota", "insufficient_quota", null, undefined],
    ["DeadlineExceeded", () => new ConnectError(SECRET, Code.DeadlineExceeded), 504, "timeout_error", "timeout", null, undefined],
    ["Unavailable", () => new ConnectError(SECRET, Code.Unavailable), 503, "service_unavailable", "service_unavailable", null, "1"],
    ["Internal", () => new ConnectError(SECRET, Code.Internal), 500, "server_error", "internal_error", null, undefined],
    ["Unimplemented", () => new ConnectError(SECRET, Code.Unimplemented), 501, "server_error", "not_implemented", null, undefined],
  ];

  const expectOpenAIError = (res: Awaited<ReturnType<typeof inject>>, status: number, type: string, code: string, param: string | null) => {
    expect(res.statusCode).toBe(status);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.headers["x-llmgw-request-id"]).toBeTruthy();
    const body = res.json() as { error: { message: string } };
    expect(body).toEqual({ error: { message: expect.any(String), type, param, code } });
    if (status < 500) expect(body.error.message).toBe("bad x");
    else expect(body.error.message).not.toMatch(/pg:|10\.0\.0\.7|password/);
  };

  describe.each(outcomes)("service throws %s", (_name, thrown, status, type, code, param, retryAfter) => {
    it.each(routes)("%s", async (_route, call) => {
      faults.fail = thrown();
      const res = await inject(call());
      expectOpenAIError(res, status, type, code, param);
      expect(res.headers["retry-after"]).toBe(retryAfter);
    });
  });

  it("PermissionDenied from a service is 403 on the edge's own routes", async () => {
    faults.fail = new ConnectError("bad x", Code.PermissionDenied);
    expectOpenAIError(await inject({ method: "GET", url: "/v1/llmgw/spend" }), 403, "permission_error", "forbidden", null);
  });

  it("the key lookup failing is mapped too: ledger down → 503 with Retry-After, not a 500", async () => {
    faults.authFail = new ConnectError(SECRET, Code.Unavailable);
    const res = await inject({ method: "POST", url: "/v1/llmgw/cache/invalidate", payload: {} }, "llmgw-some-other-key-0123456789");
    expectOpenAIError(res, 503, "service_unavailable", "service_unavailable", null);
    expect(res.headers["retry-after"]).toBe("1");
  });

  it("a 'since' too far back to be a date is a 400 on 'since', not a 500", async () => {
    const res = await inject({ method: "GET", url: "/v1/llmgw/spend?since=999999999d" });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { type: "invalid_request_error", param: "since" } });
  });
});
