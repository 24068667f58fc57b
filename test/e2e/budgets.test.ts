// Budgets end to end on two edge replicas: two meshes started with the SAME namespace share one
// Redis budget prefix, one NATS stream (their ledgers split the durable consumer) and one ledger
// schema, as two replicas of every service would. Limits go in through the admin REST API, traffic
// through the official openai SDK, and what was spent is read back from the ledger and Redis.
import { randomUUID } from "node:crypto";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "#libs/log/logger.ts";
import { startSimulator, type Simulator } from "#libs/simulator/server.ts";
import { startMesh, type Mesh } from "#services/mesh/compose.ts";
import { testConfig } from "./harness.ts";
import { BudgetCounters } from "./support-ledger/budget-counters.ts";
import { LedgerDb } from "./support-ledger/ledger-db.ts";
import { picoToUsd, RATES, usdToPico } from "./support-ledger/money.ts";

const MODEL = "gpt-4o-mini";
const MAX_TOKENS = 400;
const REQUESTS = 200;
const CONCURRENCY = 50;
const FITS = 20;

let sim: Simulator;
let meshes: Mesh[] = [];
let namespace: string;
let adminKey: string;
let db: LedgerDb;
let counters: BudgetCounters;

/** Same byte length for every i, so every request reserves the same worst case. */
function prompt(i: number, marker = ""): string {
  return `Request ${String(i).padStart(3, "0")}: write a short note about topic ${String(i).padStart(3, "0")}. [sim:len=${MAX_TOKENS}]${marker}`;
}

/**
 * The edge's worst-case reservation, recomputed here: prompt tokens are bounded by UTF-8 bytes plus
 * chat framing (4 per message + 3) below 16 KiB (libs/tokens/count.ts), all at the input rate, plus
 * max_tokens at the output rate (services/edge/pricing.ts worstCaseUsd), in pico-USD.
 */
function reservationPico(text: string): bigint {
  const promptTokens = BigInt(Buffer.byteLength(text, "utf8") + 4 + 3);
  const r = RATES[MODEL];
  if (!r) throw new Error("no rate");
  return promptTokens * r.input + BigInt(MAX_TOKENS) * r.output;
}

async function putBudget(body: Record<string, string>): Promise<void> {
  const res = await fetch(`${meshes[0]?.url}/v1/llmgw/budgets`, {
    method: "PUT",
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ period: "day", ...body }),
  });
  expect(res.status).toBe(200);
}

async function tenantClients(tenantId: string): Promise<OpenAI[]> {
  const ledger = meshes[0]?.ledger;
  if (!ledger) throw new Error("no mesh");
  const key = (await ledger.keys.create({ tenantId })).key;
  return meshes.map((m) => new OpenAI({ baseURL: `${m.url}/v1`, apiKey: key, maxRetries: 0, defaultHeaders: { "x-llmgw-cache": "off" } }));
}

type Outcome = { edge: number; status: number; code: string };

async function send(client: OpenAI, edge: number, params: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming): Promise<Outcome> {
  try {
    await client.chat.completions.create(params);
    return { edge, status: 200, code: "" };
  } catch (e) {
    if (e instanceof OpenAI.APIError) return { edge, status: e.status ?? 0, code: e.code ?? "" };
    throw e;
  }
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0 });
  namespace = `b${randomUUID().slice(0, 8)}`;
  const config = testConfig();
  // Sequential: the second replica finds the schema migrated and the stream and consumers provisioned.
  for (let i = 0; i < 2; i++) meshes.push(await startMesh({ simulatorUrl: sim.url, logger: silentLogger(), env: {}, config, namespace }));
  adminKey = (await meshes[0]!.ledger.keys.create({ tenantId: "llmgw-admin", admin: true })).key;
  db = await LedgerDb.open(meshes[0]!.ledgerSchema);
  counters = new BudgetCounters(namespace);
}, 60_000);

afterAll(async () => {
  counters?.close();
  await db?.close();
  for (const m of meshes) await m.stop();
  await sim?.close();
  const m = meshes[0];
  // Both replicas share one namespace: purging through either removes it.
  if (m) await m.purge();
  meshes = [];
});

describe("budgets on two edge replicas sharing Redis", () => {
  it(`${REQUESTS} concurrent requests against a hard limit that fits ${FITS}: spend stays within the limit plus one reservation`, async () => {
    const tenant = `budget-${randomUUID().slice(0, 8)}`;
    const clients = await tenantClients(tenant);
    const reservation = reservationPico(prompt(0));
    const hard = reservation * BigInt(FITS);
    await putBudget({ tenant_id: tenant, hard_limit_usd: picoToUsd(hard) });

    const outcomes: Outcome[] = [];
    let next = 0;
    const worker = async () => {
      while (next < REQUESTS) {
        const i = next++;
        const edge = i % 2;
        outcomes.push(await send(clients[edge]!, edge, { model: MODEL, max_tokens: MAX_TOKENS, messages: [{ role: "user", content: prompt(i) }] }));
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    const ok = outcomes.filter((o) => o.status === 200);
    const refused = outcomes.filter((o) => o.status === 429 && o.code === "insufficient_quota");
    expect(outcomes.filter((o) => !ok.includes(o) && !refused.includes(o))).toEqual([]);
    expect(ok.length + refused.length).toBe(REQUESTS);
    expect(ok.length).toBeGreaterThanOrEqual(15);
    expect(refused.length).toBeGreaterThan(0);
    // Both replicas admitted traffic against the one shared budget.
    expect(ok.some((o) => o.edge === 0) && ok.some((o) => o.edge === 1)).toBe(true);

    const rows = await db.waitForTenantRows(tenant, ok.length);
    expect(rows.length).toBe(ok.length);
    const spent = rows.reduce((s, r) => s + usdToPico(r.cost_usd), 0n);
    expect(spent).toBeLessThanOrEqual(hard + reservation);
    // Every reservation was settled with the real cost: Redis holds exactly what the ledger recorded.
    expect(await counters.waitForTenantDay(tenant, spent / 1000n)).toBe(spent / 1000n);
  });

  it("past the soft limit, the next auto request is routed a tier lower (the first one routes normally)", async () => {
    const tenant = `soft-${randomUUID().slice(0, 8)}`;
    const [client] = await tenantClients(tenant);
    // Any reservation crosses it; the edge learns the state from that reservation's answer.
    await putBudget({ tenant_id: tenant, soft_limit_usd: "0.000000001" });
    const ask = () => client!.chat.completions.create({ model: "auto", messages: [{ role: "user", content: "Explain how photosynthesis works in plants and why it matters for the climate." }] }).withResponse();

    const first = await ask();
    expect(first.response.headers.get("x-llmgw-tier")).toBe("MEDIUM");
    expect(first.response.headers.get("x-llmgw-route-reasons")).not.toContain("soft budget");

    const second = await ask();
    expect(second.response.headers.get("x-llmgw-route-reasons")).toContain("soft budget limit: MEDIUM -> LOW");
    expect(second.response.headers.get("x-llmgw-tier")).toBe("LOW");
  });

  it("a failed request releases its reservation: a request that fits only after the release is admitted", async () => {
    const tenant = `release-${randomUUID().slice(0, 8)}`;
    const [client] = await tenantClients(tenant);
    const failing = prompt(1, "[sim:500]");
    const fine = prompt(2, "[sim:xxx]"); // same length as the failing prompt; unknown markers are ignored
    const reservation = reservationPico(failing);
    expect(reservationPico(fine)).toBe(reservation);
    // Room for one reservation and a half: a second concurrent reservation never fits.
    await putBudget({ tenant_id: tenant, hard_limit_usd: picoToUsd((reservation * 3n) / 2n) });
    const params = (content: string) => ({ model: MODEL, max_tokens: MAX_TOKENS, messages: [{ role: "user" as const, content }] });

    const failed = await send(client!, 0, params(failing));
    expect(failed.status).toBeGreaterThanOrEqual(500);
    // Released (asynchronously, after the answer): the tenant's counter returns to zero.
    expect(await counters.waitForTenantDay(tenant, 0n)).toBe(0n);

    expect(await send(client!, 0, params(fine))).toMatchObject({ status: 200 });
    // Control: the limit is tight enough that the failed reservation, had it been kept, would have
    // refused the request above (an answered request holds more than half a reservation).
    expect(await send(client!, 0, params(prompt(3, "[sim:xxx]")))).toMatchObject({ status: 429, code: "insufficient_quota" });
  });

  // Each ledger replica caches a tenant's limits; a PUT bumps the tenant's limits version in Redis
  // and every reservation checks it atomically, so the other replica reloads before admitting.
  it("a hard limit set through one replica applies at once on the other", async () => {
    const tenant = `stale-${randomUUID().slice(0, 8)}`;
    const clients = await tenantClients(tenant);
    const params = (i: number) => ({ model: MODEL, max_tokens: MAX_TOKENS, messages: [{ role: "user" as const, content: prompt(i) }] });
    // Replica 1 reads (and caches) this tenant's limits: none yet.
    expect(await send(clients[1]!, 1, params(1))).toMatchObject({ status: 200 });
    await putBudget({ tenant_id: tenant, hard_limit_usd: "0.000000001" }); // through replica 0
    expect(await send(clients[0]!, 0, params(2))).toMatchObject({ status: 429 });
    expect(await send(clients[1]!, 1, params(3))).toMatchObject({ status: 429, code: "insufficient_quota" });
  });
});
