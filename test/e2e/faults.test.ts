// Failing dependencies under steady load, in the mesh (issue #11): Redis, NATS and PostgreSQL each
// reached through a fault proxy that is cut (connections dropped and refused) and then stalled
// (connections open, nothing forwarded) in turn while chat requests keep coming. Every request is
// answered or refused cleanly (an OpenAI-shaped error, never a 500 or a hang), every answered request
// is in the ledger exactly once after recovery, and nothing is lost: the mesh here is the in-process
// one (every service behind its own gRPC server in this test process), so "no process lost" means
// this process and each server survive the faults and answer afterwards. The supervised launcher of
// separate processes is tested in services/mesh/supervisor.test.ts.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testConfig, startGateway, type Gateway } from "./harness.ts";
import { startFaultProxy, type FaultProxy } from "./support/fault-proxy.ts";
import { fresh, sleep, user } from "./support/requests.ts";
import { DATABASE_URL, LedgerDb, NATS_URL, REDIS_URL } from "./support-ledger/ledger-db.ts";

const FAULT_MS = 2_500;
const RECOVER_MS = 1_500;
const WORKERS = 3;
/** No request may take longer: the configured timeouts below bound every wait on a dependency. */
const HANG_MS = 12_000;

type Dep = "redis" | "nats" | "postgres";
interface Outcome {
  phase: string;
  status: number;
  ms: number;
  requestId: string;
  /** Error bodies only: { error: { message, type } } as OpenAI sends them. */
  shaped: boolean;
}

const hostPort = (url: string, port: number) => {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || port) };
};

describe("faults in the mesh: Redis, NATS and PostgreSQL cut and stalled under load", () => {
  const proxies = {} as Record<Dep, FaultProxy>;
  let gw: Gateway;
  let client: OpenAI;

  beforeAll(async () => {
    proxies.redis = await startFaultProxy(hostPort(REDIS_URL, 6379));
    proxies.nats = await startFaultProxy(hostPort(NATS_URL, 4222));
    proxies.postgres = await startFaultProxy(hostPort(DATABASE_URL, 5432));
    const db = new URL(DATABASE_URL);
    db.host = proxies.postgres.address;
    const config = testConfig((c) => {
      c.dependencies.postgres_statement_timeout_ms = 1_000;
      c.dependencies.postgres_query_timeout_ms = 1_500;
      c.dependencies.postgres_connect_timeout_ms = 1_000;
      c.dependencies.redis_command_timeout_ms = 300;
      c.dependencies.nats_publish_timeout_ms = 1_000;
      c.dependencies.rpc_deadline_ms = 4_000;
      c.budgets.redis_timeout_ms = 300;
      c.budgets.probe_after_ms = 250;
    });
    gw = await startGateway("mesh", {
      config,
      env: { REDIS_URL: `redis://${proxies.redis.address}`, NATS_URL: `nats://${proxies.nats.address}`, DATABASE_URL: db.toString() },
    });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: await gw.createKey(`faults-${Date.now()}`), maxRetries: 0, timeout: HANG_MS * 2 });
  }, 60_000);

  afterAll(async () => {
    for (const p of Object.values(proxies)) p.heal();
    await gw?.stop();
    for (const p of Object.values(proxies)) await p.close();
  });

  it("every request is answered or refused cleanly, every answer is in the ledger once, nothing is lost", async () => {
    const outcomes: Outcome[] = [];
    let phase = "baseline";
    let running = true;

    const one = async (): Promise<void> => {
      const t0 = Date.now();
      const at = phase;
      try {
        const { response } = await client.chat.completions.create({ model: "auto", messages: user(fresh("Name a colour of the sky.")), max_tokens: 16 }).withResponse();
        outcomes.push({ phase: at, status: response.status, ms: Date.now() - t0, requestId: response.headers.get("x-llmgw-request-id") ?? "", shaped: true });
      } catch (e) {
        if (e instanceof OpenAI.APIError && e.status !== undefined) {
          const body = e.error as { message?: unknown; type?: unknown } | undefined;
          outcomes.push({ phase: at, status: e.status, ms: Date.now() - t0, requestId: e.headers?.get("x-llmgw-request-id") ?? "", shaped: typeof body?.message === "string" && typeof body.type === "string" });
        } else {
          outcomes.push({ phase: at, status: 0, ms: Date.now() - t0, requestId: "", shaped: false }); // no answer at all (hang, reset)
        }
      }
    };
    const workers = Array.from({ length: WORKERS }, async () => {
      while (running) await one();
    });

    await sleep(1_000);
    for (const dep of ["redis", "nats", "postgres"] as const) {
      for (const fault of ["cut", "stall"] as const) {
        phase = `${dep} ${fault}`;
        if (fault === "cut") proxies[dep].cut();
        else proxies[dep].stall();
        await sleep(FAULT_MS);
        proxies[dep].heal();
        phase = `after ${dep} ${fault}`;
        await sleep(RECOVER_MS);
      }
    }
    running = false;
    await Promise.all(workers);

    const byPhase = new Map<string, Record<number, number>>();
    for (const o of outcomes) {
      const counts = byPhase.get(o.phase) ?? {};
      counts[o.status] = (counts[o.status] ?? 0) + 1;
      byPhase.set(o.phase, counts);
    }
    console.info(`[faults e2e] ${outcomes.length} requests; status counts by phase:\n${[...byPhase].map(([p, c]) => `  ${p.padEnd(22)} ${JSON.stringify(c)}`).join("\n")}`);
    console.info(`[faults e2e] slowest ${Math.max(...outcomes.map((o) => o.ms))} ms`);

    // Answered or refused cleanly: never a dropped connection, never a 500, every error in OpenAI's shape.
    expect(outcomes.filter((o) => o.status === 0)).toEqual([]);
    expect(outcomes.filter((o) => o.status >= 500 && ![502, 503, 504].includes(o.status))).toEqual([]);
    expect(outcomes.filter((o) => o.status !== 200 && !o.shaped)).toEqual([]);
    // Never a hang: every wait on a dependency is bounded by a configured timeout.
    expect(outcomes.filter((o) => o.ms >= HANG_MS)).toEqual([]);
    // Each fault degrades, it does not stop the gateway: requests are answered during every one.
    for (const dep of ["redis", "nats", "postgres"]) {
      for (const fault of ["cut", "stall"]) expect(byPhase.get(`${dep} ${fault}`)?.[200] ?? 0, `${dep} ${fault}`).toBeGreaterThan(0);
    }

    // Every answered request reaches the ledger exactly once, once the dependencies are back.
    const answered = outcomes.filter((o) => o.status === 200).map((o) => o.requestId);
    expect(answered.every((id) => id.length > 0)).toBe(true);
    const ledger = await LedgerDb.open(gw.mesh?.ledgerSchema ?? "");
    try {
      const rows = await ledger.waitForRequests(answered, 30_000);
      const seen = new Map<string, number>();
      for (const r of rows) seen.set(r.request_id, (seen.get(r.request_id) ?? 0) + 1);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      expect(seen.size).toBe(new Set(answered).size);
    } finally {
      await ledger.close();
    }

    // Nothing lost: the edge is ready again and the mesh answers.
    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).toBe(200);
    const after = await client.chat.completions.create({ model: "auto", messages: user(fresh("Name a fruit.")), max_tokens: 8 });
    expect(after.choices[0]?.message.content).toBeTruthy();
  }, 120_000);

  it("budgets across a Redis cut (outage_mode local, the default): a tenant with budget left is served, its hard limit is not passed", async () => {
    const tenant = `faults-limited-${Date.now()}`;
    const HARD_USD = 0.01;
    const put = await fetch(`${gw.url}/v1/llmgw/budgets`, {
      method: "PUT",
      headers: { authorization: `Bearer ${gw.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ tenant_id: tenant, period: "day", hard_limit_usd: String(HARD_USD) }),
    });
    expect(put.status).toBe(200);
    const limited = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: await gw.createKey(tenant), maxRetries: 0, timeout: HANG_MS * 2, defaultHeaders: { "x-llmgw-cache": "off" } });
    // Answers as long as max_tokens, so each costs about its worst-case reservation (~$0.002 on gpt-4o):
    // admitting without a check (outage_mode open) would pass the limit several times over.
    const ask = async (): Promise<{ status: number; id: string }> => {
      try {
        const { response } = await limited.chat.completions.create({ model: "gpt-4o", messages: user(fresh("Tell a long story. [sim:len=200]")), max_tokens: 200 }).withResponse();
        return { status: response.status, id: response.headers.get("x-llmgw-request-id") ?? "" };
      } catch (e) {
        if (e instanceof OpenAI.APIError && e.status !== undefined) return { status: e.status, id: "" };
        throw e;
      }
    };
    // The previous case ends just after PostgreSQL healed: the budget store may still be marked down
    // (503) until its next probe succeeds. Refused asks spend nothing, so wait that out first.
    const firstAsk = async () => {
      for (const until = Date.now() + 10_000; ; await sleep(200)) {
        const r = await ask();
        if (r.status !== 503 || Date.now() > until) return r;
      }
    };
    const before = [await firstAsk(), await ask()]; // the ledger replica learns the tenant's counters through Redis
    expect(before.map((r) => r.status)).toEqual([200, 200]);
    proxies.redis.cut();
    const during: Array<{ status: number; id: string }> = [];
    for (let i = 0; i < 12; i++) during.push(await ask());
    proxies.redis.heal();
    const statuses = during.map((r) => r.status);
    console.info(`[faults e2e] limited tenant during the Redis cut: ${JSON.stringify(statuses)}`);
    expect(statuses.filter((st) => st === 200).length).toBeGreaterThan(0); // budget left: served
    expect(statuses.every((st) => st === 200 || st === 429 || st === 503)).toBe(true);
    expect(statuses.filter((st) => st !== 200).length).toBeGreaterThan(0); // but not past the limit

    const ids = [...before, ...during].filter((r) => r.status === 200).map((r) => r.id);
    const ledger = await LedgerDb.open(gw.mesh?.ledgerSchema ?? "");
    try {
      await ledger.waitForRequests(ids, 30_000);
      const spent = Number(await ledger.sumCost(ids));
      console.info(`[faults e2e] limited tenant spent $${spent} of a $${HARD_USD} hard limit`);
      // One ledger replica: within its share, which is all that remained; never past the limit.
      expect(spent).toBeLessThanOrEqual(HARD_USD);
    } finally {
      await ledger.close();
    }
  }, 90_000);

  it("rate limits across a Redis cut (outage_mode local): the one ledger replica keeps a tenant's requests per minute, refusing as usual", async () => {
    const tenant = `faults-rpm-${Date.now()}`;
    const N = 3;
    const asAdmin = { authorization: `Bearer ${gw.adminKey}`, "content-type": "application/json" };
    const put = await fetch(`${gw.url}/v1/llmgw/tenants/${tenant}/limits`, { method: "PUT", headers: asAdmin, body: JSON.stringify({ requests_per_minute: N }) });
    expect(put.status).toBe(200);
    const key = await gw.createKey(tenant);
    const chat = () =>
      fetch(`${gw.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "x-llmgw-cache": "off" },
        body: JSON.stringify({ model: "gpt-4o-mini", max_tokens: 8, messages: user(fresh("Name a fruit.")) }),
      });
    proxies.redis.cut();
    const answers: Response[] = [];
    for (let i = 0; i < N + 2; i++) answers.push(await chat());
    proxies.redis.heal();
    // One ledger replica: its share is the whole limit, counted from the start of the outage.
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429, 429]);
    for (const a of answers.slice(N)) {
      expect(Number(a.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(a.headers.get("x-ratelimit-limit-requests")).toBe(String(N));
      expect(a.headers.get("x-ratelimit-remaining-requests")).toBe("0");
      expect(await a.json()).toMatchObject({ error: { type: "rate_limit_error", code: "rate_limit_exceeded" } });
    }
    // Recorded like any refusal (the ledger's table is in PostgreSQL, which stayed up).
    let recorded: unknown[] = [];
    for (let i = 0; i < 100 && recorded.length < 2; i++) {
      const r = await fetch(`${gw.url}/v1/llmgw/refusals?tenant_id=${tenant}&since=1h`, { headers: asAdmin });
      recorded = ((await r.json()) as { data: unknown[] }).data;
      if (recorded.length < 2) await sleep(100);
    }
    expect(recorded).toEqual([1, 2].map(() => expect.objectContaining({ reason: "rate_limit", limit: "tenant:requests_per_minute" })));
  }, 30_000);
});
