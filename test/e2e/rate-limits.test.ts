// Rate limits and access end to end. Mesh: two edge replicas (two meshes started with the SAME
// namespace share one Redis, one NATS stream and one ledger schema, as replicas of every service
// would): a limit set through the admin API of one edge is exact across both, every refusal is a
// 429 with Retry-After and the x-ratelimit-* headers and is recorded in the ledger, and a key revoked
// through one edge is refused by the other at once. Embedded: the same limits in one process, the
// admin API's validation, and /metrics behind the metrics token or an admin key.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "#libs/log/logger.ts";
import { startSimulator, type Simulator } from "#libs/simulator/server.ts";
import { startMesh, type Mesh } from "#services/mesh/compose.ts";
import { DATABASE_URL, startGateway, testConfig, type Gateway } from "./harness.ts";

const MODEL = "gpt-4o-mini";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Answer {
  edge: number;
  status: number;
  headers: Headers;
  body: { error?: { message: string; type: string; code: string | null; param: string | null } };
}

async function chat(url: string, key: string, content: string, edge = 0): Promise<Answer> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "x-llmgw-cache": "off" },
    body: JSON.stringify({ model: MODEL, max_tokens: 50, messages: [{ role: "user", content }] }),
  });
  return { edge, status: res.status, headers: res.headers, body: (await res.json()) as Answer["body"] };
}

async function admin(url: string, adminKey: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminKey}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** A refusal as OpenAI sends it: 429 rate_limit_error, Retry-After and retry-after-ms, the limit headers. */
function expectRateLimited(a: Answer, limitHeader: "requests" | "tokens", limit: number): void {
  expect(a.status).toBe(429);
  expect(a.body.error).toMatchObject({ type: "rate_limit_error", code: "rate_limit_exceeded" });
  expect(Number(a.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  expect(Number(a.headers.get("retry-after-ms"))).toBeGreaterThan(0);
  expect(a.headers.get(`x-ratelimit-limit-${limitHeader}`)).toBe(String(limit));
  // Requests: none left. Tokens: fewer left than this request's estimate (maybe some).
  const remaining = Number(a.headers.get(`x-ratelimit-remaining-${limitHeader}`));
  if (limitHeader === "requests") expect(remaining).toBe(0);
  else expect(remaining).toBeGreaterThanOrEqual(0);
  expect(a.headers.get(`x-ratelimit-reset-${limitHeader}`)).toMatch(/^(\d+h)?(\d+m)?\d+(\.\d+)?(ms|s)$/);
}

describe("rate limits on two edge replicas (mesh)", () => {
  let sim: Simulator;
  const meshes: Mesh[] = [];
  let adminKey: string;
  let db: pg.Client;
  let schema: string;

  beforeAll(async () => {
    // Answers take 300 ms, so every concurrent admission below is decided before any settlement.
    sim = await startSimulator({ port: 0, latencyMs: 300 });
    const namespace = `rl${randomUUID().slice(0, 8)}`;
    const config = testConfig();
    for (let i = 0; i < 2; i++) meshes.push(await startMesh({ simulatorUrl: sim.url, logger: silentLogger(), env: {}, config, namespace }));
    adminKey = (await meshes[0]!.ledger.keys.create({ tenantId: "llmgw-admin", admin: true })).key;
    schema = meshes[0]!.ledgerSchema;
    db = new pg.Client({ connectionString: DATABASE_URL });
    await db.connect();
  }, 180_000);

  afterAll(async () => {
    await db?.end();
    for (const m of meshes) await m.stop();
    await sim?.close();
    // One namespace for both: purging through either removes it.
    await meshes[0]?.purge();
  });

  const url = (edge: number) => meshes[edge]!.url;

  async function refusalsInLedger(tenantId: string, n: number): Promise<Array<{ key_id: string; reason: string; limit_name: string; retry_after_ms: string }>> {
    const until = Date.now() + 10_000;
    for (;;) {
      const { rows } = await db.query<{ key_id: string; reason: string; limit_name: string; retry_after_ms: string }>(
        `SELECT key_id, reason, limit_name, retry_after_ms::text FROM "${schema}".admission_refusals WHERE tenant_id = $1`,
        [tenantId],
      );
      if (rows.length >= n || Date.now() > until) return rows;
      await sleep(100);
    }
  }

  it("a key's requests per minute, set through edge A: exactly N admitted across both edges, the rest 429 with the headers, each refusal in the ledger", async () => {
    const N = 5;
    const tenant = `rpm-${randomUUID().slice(0, 8)}`;
    const { key, keyId } = await meshes[0]!.ledger.keys.create({ tenantId: tenant });
    const put = await admin(url(0), adminKey, "PUT", `/v1/llmgw/keys/${keyId}/limits`, { requests_per_minute: N });
    expect(put).toMatchObject({ status: 200, json: { tenant_id: tenant, key_id: keyId, requests_per_minute: N, tokens_per_minute: null } });

    const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => chat(url(i % 2), key, `Say something short about the number ${i}.`, i % 2)));
    const ok = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status !== 200);
    expect(ok).toHaveLength(N);
    for (const a of refused) expectRateLimited(a, "requests", N);
    expect(refused[0]?.body.error?.message).toMatch(/key \(requests per minute\)/);
    // Both replicas refused (the second learnt the limit set through the first without a restart).
    expect(refused.some((a) => a.edge === 0) && refused.some((a) => a.edge === 1)).toBe(true);
    // Admitted answers carry the same headers, counting down.
    expect(ok.every((a) => a.headers.get("x-ratelimit-limit-requests") === String(N))).toBe(true);
    expect(ok.map((a) => Number(a.headers.get("x-ratelimit-remaining-requests"))).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(ok.every((a) => a.headers.get("x-ratelimit-limit-tokens") === null)).toBe(true);

    const rows = await refusalsInLedger(tenant, refused.length);
    expect(rows).toHaveLength(refused.length);
    expect(rows.every((r) => r.key_id === keyId && r.reason === "rate_limit" && r.limit_name === "key:requests_per_minute" && Number(r.retry_after_ms) > 0)).toBe(true);

    const got = await admin(url(1), adminKey, "GET", `/v1/llmgw/keys/${keyId}/limits`);
    expect(got.json).toMatchObject({ tenant_id: tenant, key_id: keyId, requests_per_minute: N });
  }, 60_000);

  it("a tenant's tokens per minute hold across its keys and both edges: as many admitted as their prompt estimates fit", async () => {
    const TPM = 200;
    const tenant = `tpm-${randomUUID().slice(0, 8)}`;
    const keys = [(await meshes[0]!.ledger.keys.create({ tenantId: tenant })).key, (await meshes[1]!.ledger.keys.create({ tenantId: tenant })).key];
    expect((await admin(url(1), adminKey, "PUT", `/v1/llmgw/tenants/${tenant}/limits`, { tokens_per_minute: TPM })).status).toBe(200);

    // Same byte length for every prompt, so every admission charges the same estimate.
    const prompt = (i: number) => `Tell me one fact about topic ${String(i).padStart(2, "0")}, briefly.`;
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => chat(url(i % 2), keys[Math.floor(i / 2) % 2]!, prompt(i), i % 2)));
    const ok = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status !== 200);
    expect(ok.length).toBeGreaterThan(0);
    for (const a of refused) expectRateLimited(a, "tokens", TPM);
    // The estimate, read off the first admission's headers: TPM - remaining.
    const estimate = TPM - Math.max(...ok.map((a) => Number(a.headers.get("x-ratelimit-remaining-tokens"))));
    expect(estimate).toBeGreaterThan(10);
    expect(ok).toHaveLength(Math.floor(TPM / estimate));
    // What the refusals saw left: less than one more estimate (a few tokens refill per second).
    for (const a of refused) expect(Number(a.headers.get("x-ratelimit-remaining-tokens"))).toBeLessThan(estimate);
    expect(refused[0]?.body.error?.message).toMatch(/tenant \(tokens per minute\)/);
    expect((await refusalsInLedger(tenant, refused.length)).every((r) => r.limit_name === "tenant:tokens_per_minute")).toBe(true);
  }, 60_000);

  it("a key revoked through edge A is refused by edge B at once (its auth cache held it for 30 s)", async () => {
    const tenant = `rev-${randomUUID().slice(0, 8)}`;
    const { key, keyId } = await meshes[0]!.ledger.keys.create({ tenantId: tenant });
    const models = () => fetch(`${url(1)}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect((await models()).status).toBe(200); // now cached by edge B
    expect((await admin(url(0), adminKey, "DELETE", `/v1/llmgw/keys/${keyId}`)).status).toBe(200);
    const t0 = Date.now();
    let status = 0;
    while (Date.now() - t0 < 5_000) {
      status = (await models()).status;
      if (status === 401) break;
      await sleep(20);
    }
    expect(status).toBe(401);
    // The cache TTL is 30 s: refused within a fraction of it means the announcement did it.
    expect(Date.now() - t0).toBeLessThan(3_000);
  }, 30_000);
});

describe("rate limits and /metrics access (embedded)", () => {
  const METRICS_TOKEN = "metrics-token-for-e2e-0123456789";
  let gw: Gateway;

  beforeAll(async () => {
    gw = await startGateway("embedded", { env: { LLMGW_METRICS_TOKEN: METRICS_TOKEN } });
  }, 120_000);
  afterAll(() => gw?.stop());

  it("a tenant's requests per minute: headers on every answer, then 429 with Retry-After, counted in /metrics", async () => {
    const tenant = `emb-${randomUUID().slice(0, 8)}`;
    const key = await gw.createKey(tenant);
    expect((await admin(gw.url, gw.adminKey, "PUT", `/v1/llmgw/tenants/${tenant}/limits`, { requests_per_minute: 3, tokens_per_day: 1_000_000 })).status).toBe(200);
    const answers: Answer[] = [];
    for (let i = 0; i < 5; i++) answers.push(await chat(gw.url, key, `A short question number ${i}?`));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429, 429]);
    expect(answers.slice(0, 3).map((a) => a.headers.get("x-ratelimit-remaining-requests"))).toEqual(["2", "1", "0"]);
    expect(answers[0]?.headers.get("x-ratelimit-limit-tokens")).toBe("1000000");
    expect(answers[0]?.headers.get("x-ratelimit-reset-requests")).toMatch(/^\d+(\.\d+)?s$/);
    expectRateLimited(answers[3]!, "requests", 3);
    expect(answers[3]?.body.error?.message).toMatch(/tenant \(requests per minute\)/);

    const limits = await admin(gw.url, gw.adminKey, "GET", `/v1/llmgw/tenants/${tenant}/limits`);
    expect(limits.json).toMatchObject({ tenant_id: tenant, key_id: null, requests_per_minute: 3, tokens_per_minute: null, tokens_per_day: 1_000_000, keys: [] });
    // A tenant key reads its own tenant's limits, not another's.
    expect((await admin(gw.url, key, "GET", `/v1/llmgw/tenants/${tenant}/limits`)).status).toBe(200);
    expect((await admin(gw.url, key, "GET", `/v1/llmgw/tenants/someone-else/limits`)).status).toBe(404);

    // Recorded in the ledger: the admin sees both refusals, newest first; the tenant's key sees its own.
    const listed = await admin(gw.url, gw.adminKey, "GET", `/v1/llmgw/refusals?tenant_id=${tenant}&since=1h`);
    expect(listed.json.data).toEqual([1, 2].map(() => expect.objectContaining({ tenant_id: tenant, reason: "rate_limit", limit: "tenant:requests_per_minute" })));
    expect((await admin(gw.url, key, "GET", `/v1/llmgw/refusals?tenant_id=someone-else`)).json.data).toHaveLength(2);
    for (const q of ["since=yesterday-ish", "since=%2B275000-01-01T00:00:00Z", "since=1h&since=2h", "limit=0", "limit=abc"]) {
      expect((await admin(gw.url, gw.adminKey, "GET", `/v1/llmgw/refusals?${q}`)).status, q).toBe(400);
    }

    const metrics = await (await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    expect(metrics).toMatch(/llmgw_rate_limit_refusals_total\{scope="tenant",limit="requests_per_minute"[^}]*\} 2$/m);

    // Lifting the limit (null) applies to the next request.
    expect((await admin(gw.url, gw.adminKey, "PUT", `/v1/llmgw/tenants/${tenant}/limits`, { requests_per_minute: null })).status).toBe(200);
    const after = await chat(gw.url, key, "One more?");
    expect(after.status).toBe(200);
    expect(after.headers.get("x-ratelimit-limit-requests")).toBeNull();
  }, 60_000);

  it("embeddings count against the same limits (a key's requests per minute)", async () => {
    const tenant = `emb-e-${randomUUID().slice(0, 8)}`;
    const { key, keyId } = await gw.clients.ledger.createKey({ tenantId: tenant, name: "e2e" });
    expect((await admin(gw.url, gw.adminKey, "PUT", `/v1/llmgw/keys/${keyId}/limits`, { requests_per_minute: 1 })).status).toBe(200);
    const embed = (input: string) =>
      fetch(`${gw.url}/v1/embeddings`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ model: "text-embedding-3-small", input }) });
    expect((await embed("first")).status).toBe(200);
    const refused = await embed("second");
    expectRateLimited({ edge: 0, status: refused.status, headers: refused.headers, body: (await refused.json()) as Answer["body"] }, "requests", 1);
  });

  it("bad limits are 400s naming the field; only an admin sets them; an unknown key is a 404", async () => {
    const key = await gw.createKey("emb-bad");
    const bad = async (body: unknown, param: string) => {
      const r = await admin(gw.url, gw.adminKey, "PUT", `/v1/llmgw/tenants/emb-bad/limits`, body);
      expect(r.status).toBe(400);
      expect(r.json).toMatchObject({ error: { type: "invalid_request_error", param } });
    };
    await bad({ requests_per_minute: 0 }, "requests_per_minute");
    await bad({ tokens_per_minute: 1.5 }, "tokens_per_minute");
    await bad({ requests_per_day: "10" }, "requests_per_day");
    await bad({ tokens_per_day: 1e13 }, "tokens_per_day");
    await bad({ rpm: 10 }, "rpm");
    expect((await admin(gw.url, gw.adminKey, "PUT", `/v1/llmgw/tenants/emb-bad/limits`, [1])).status).toBe(400);
    expect((await admin(gw.url, key, "PUT", `/v1/llmgw/tenants/emb-bad/limits`, { requests_per_minute: 5 })).status).toBe(403);
    const unknown = await admin(gw.url, gw.adminKey, "PUT", `/v1/llmgw/keys/key_nope/limits`, { requests_per_minute: 5 });
    expect(unknown).toMatchObject({ status: 404, json: { error: { type: "not_found_error" } } });
  });

  it("/metrics answers the metrics token or an admin key, and nobody else (in the OpenAI error shape)", async () => {
    const get = (auth?: string) => fetch(`${gw.url}/metrics`, auth ? { headers: { authorization: auth } } : {});
    const anonymous = await get();
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { type: "authentication_error" } });
    expect((await get(`Bearer wrong-token-0123456789`)).status).toBe(401);
    const tenant = await get(`Bearer ${await gw.createKey("emb-metrics")}`);
    expect(tenant.status).toBe(403);
    expect(await tenant.json()).toMatchObject({ error: { type: "permission_error" } });
    for (const auth of [`Bearer ${METRICS_TOKEN}`, `Bearer ${gw.adminKey}`]) {
      const ok = await get(auth);
      expect(ok.status).toBe(200);
      expect(await ok.text()).toMatch(/^# HELP /m);
    }
    // Health stays open (load balancers probe it).
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  });
});
