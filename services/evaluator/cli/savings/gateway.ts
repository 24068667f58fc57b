// The gateway under test, in either run mode, with the shipped default configuration, plus the two admin calls the
// replay makes through the real edge: creating the run's tenant key and reading the run's spend back from the ledger.
// A mesh run removes its namespace's PostgreSQL schema, JetStream stream and Redis keys when it stops.
import { loadConfig } from "#libs/config/load.ts";
import type { Config } from "#libs/config/schema.ts";
import type { Logger } from "#libs/log/logger.ts";
import { tierName } from "#libs/rpc/tier.ts";
import type { ServiceClients } from "#libs/rpc/service-clients.ts";
import { startEmbedded } from "#services/embedded/compose.ts";
import { startMesh } from "#services/mesh/compose.ts";
import type { FindingCell } from "./learn.ts";
import type { LedgerTotal } from "./references.ts";

export type Mode = "embedded" | "mesh";

export interface RunningGateway {
  mode: Mode;
  url: string;
  adminKey: string;
  /** Where the mesh keeps its state (mesh mode), for the report. */
  namespace?: string;
  /** The gateway's own service clients (the evaluator's findings). */
  clients: ServiceClients;
  stop(): Promise<void>;
}

/** The shipped default configuration: deploy/config/llmgw.yaml with no environment overrides. */
export function shippedConfig(): Config {
  return loadConfig({ env: {} });
}

/** `config` defaults to the shipped one; --learn passes it with shadow sampling switched on. */
export async function startGateway(mode: Mode, simulatorUrl: string, logger: Logger, adminKey: string, config: Config = shippedConfig()): Promise<RunningGateway> {
  if (mode === "embedded") {
    // LLMGW_API_KEY only names the bootstrap admin key; it changes no behaviour.
    const e = await startEmbedded({ config, env: { LLMGW_API_KEY: adminKey }, dataDir: "memory", simulatorUrl, port: 0, host: "127.0.0.1", logger });
    return { mode, url: e.url, adminKey: e.createdAdminKey ?? adminKey, clients: e.clients, stop: () => e.stop() };
  }
  const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
  const m = await startMesh({ config, simulatorUrl, env: {}, logger, databaseUrl });
  try {
    const admin = (await m.ledger.keys.create({ tenantId: "llmgw-admin", admin: true })).key;
    return {
      mode,
      url: m.url,
      adminKey: admin,
      namespace: m.namespace,
      clients: m.clients,
      async stop() {
        try {
          await m.stop();
        } finally {
          await m.purge();
        }
      },
    };
  } catch (e) {
    await m.stop().catch(() => undefined);
    await m.purge().catch(() => undefined);
    throw e;
  }
}

async function api<T>(url: string, key: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(url, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${key}`, ...(init.body === undefined ? {} : { "content-type": "application/json" }) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${url}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** POST /v1/llmgw/keys: a key of its own tenant for the run. */
export async function createTenantKey(gw: RunningGateway, tenantId: string): Promise<string> {
  const r = await api<{ key: string }>(`${gw.url}/v1/llmgw/keys`, gw.adminKey, { method: "POST", body: { tenant_id: tenantId, name: "eval-savings" } });
  return r.key;
}

/** GET /v1/llmgw/spend for the key's tenant since `since`. */
export async function readSpend(gw: RunningGateway, tenantKey: string, since: Date): Promise<LedgerTotal> {
  const r = await api<{ total: LedgerTotal }>(`${gw.url}/v1/llmgw/spend?since=${encodeURIComponent(since.toISOString())}`, tenantKey);
  return r.total;
}

/** Polls the spend report until the ledger has recorded `expected` requests (or the timeout passes). */
export async function waitForLedger(gw: RunningGateway, tenantKey: string, since: Date, expected: number, timeoutMs = 120_000): Promise<{ total: LedgerTotal; complete: boolean; waitedMs: number }> {
  const t0 = Date.now();
  for (;;) {
    const total = await readSpend(gw, tenantKey, since);
    const waitedMs = Date.now() - t0;
    if (total.requests >= expected) return { total, complete: true, waitedMs };
    if (waitedMs > timeoutMs) return { total, complete: false, waitedMs };
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The live routing policy as GET/POST /v1/llmgw/policy show it. */
export interface PolicyView {
  version: number;
  reason: string;
  overrides: unknown[];
}

/** POST /v1/llmgw/policy {yaml, reason}: the analysis' patch becomes a new live policy version. */
export async function applyPolicyYaml(gw: RunningGateway, yaml: string, reason: string): Promise<PolicyView> {
  return api<PolicyView>(`${gw.url}/v1/llmgw/policy`, gw.adminKey, { method: "POST", body: { yaml, reason } });
}

/** POST /v1/llmgw/policy/revert {version}: 0 = the configured overrides. */
export async function revertPolicy(gw: RunningGateway, version: number, reason: string): Promise<PolicyView> {
  return api<PolicyView>(`${gw.url}/v1/llmgw/policy/revert`, gw.adminKey, { method: "POST", body: { version, reason } });
}

/** The evaluator's findings for a tenant (GetDowngradeReport): samples and pass rate per cell. */
export async function downgradeFindings(gw: RunningGateway, tenantId: string): Promise<FindingCell[]> {
  const r = await gw.clients.evaluator.getDowngradeReport({ tenantId });
  return r.findings.flatMap((f) => {
    const tier = tierName(f.tier);
    return tier === "" ? [] : [{ category: f.category, tier, from: f.fromModel, to: f.toModel, samples: Number(f.samples), passRate: f.passRate }];
  });
}

/** Polls the findings until their samples sum to `expected`, stop growing for `stallMs`, or `timeoutMs` passes. */
export async function waitForShadowTests(
  gw: RunningGateway,
  tenantId: string,
  expected: number,
  opts: { stallMs?: number; timeoutMs?: number; onProgress?: (n: number) => void } = {},
): Promise<{ cells: FindingCell[]; samples: number; complete: boolean; waitedMs: number }> {
  const stallMs = opts.stallMs ?? 30_000;
  const timeoutMs = opts.timeoutMs ?? 900_000;
  const t0 = Date.now();
  let last = -1;
  let lastChange = t0;
  for (;;) {
    const cells = await downgradeFindings(gw, tenantId);
    const samples = cells.reduce((a, c) => a + c.samples, 0);
    const now = Date.now();
    if (samples !== last) {
      last = samples;
      lastChange = now;
      opts.onProgress?.(samples);
    }
    if (samples >= expected) return { cells, samples, complete: true, waitedMs: now - t0 };
    if (now - lastChange > stallMs || now - t0 > timeoutMs) return { cells, samples, complete: false, waitedMs: now - t0 };
    await new Promise((r) => setTimeout(r, 1_000));
  }
}
