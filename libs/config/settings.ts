// Everything the gateway takes from the process environment, read in one place (where the process
// starts) into one typed object that the composition hands to services. Secrets and addresses of
// infrastructure come from here; behaviour comes from the YAML config (config overrides: load.ts).
import type { Config } from "./schema.ts";

export type Env = Readonly<Record<string, string | undefined>>;

export interface BusNames {
  /** JetStream stream name. */
  stream: string;
  /** Subject prefix every event subject starts with. */
  prefix: string;
}

export interface Settings {
  /** Ledger database when set (`postgres://...` or `pglite:<dir>`); else the mesh uses local PostgreSQL, embedded PGlite under dataDir. */
  databaseUrl?: string;
  /** Ledger schema inside that database ("" = public); tests isolate meshes by it. */
  databaseSchema: string;
  redisUrl: string;
  natsUrl: string;
  qdrant?: { url: string; apiKey?: string };
  /** An OpenAI-compatible embeddings endpoint for the semantic cache, instead of the local embedder. */
  embeddings?: { baseUrl: string; apiKey: string; model: string; dim: number };
  /** Base URL of a running provider simulator for providers without a key. */
  simulatorUrl?: string;
  /** The bundled simulator's pacing when the embedded gateway starts one. */
  simulator: { latencyMs: number; tokensPerSecond: number };
  /** Embedded mode: PGlite directory, or "memory". */
  dataDir: string;
  /** Admin key to create at first start (else one is generated and printed by `npm start`). */
  bootstrapApiKey?: string;
  /** Bearer token Prometheus presents for the edge's /metrics (else only an admin API key opens it). */
  metricsToken?: string;
  pricesFile?: string;
  cachePrefix: string;
  /** Master key (64 hex digits or base64, >= 32 bytes) the cache derives per-tenant keys from to encrypt stored answers; absent: stored in clear. */
  cacheMasterKey?: string;
  budgetPrefix: string;
  bus: BusNames;
  rpcClient: "grpc-js" | "connect" | "connect-h1";
  providerFetch: "undici" | "platform";
  log: { level: string; prompts: boolean };
  /** Provider API keys by the env variable name the config names (providers.*.api_key_env). */
  providerKeys: Readonly<Record<string, string>>;
  /** OTLP/HTTP trace export (absent: tracing off, nothing registered). */
  tracing?: { endpoint: string; headers: Readonly<Record<string, string>>; serviceName?: string };
}

/** The variables read, with what they set; README's `.env.example` documents the same list. */
export const SETTINGS_ENV = [
  "DATABASE_URL",
  "LLMGW_DATABASE_URL",
  "LLMGW_DATABASE_SCHEMA",
  "REDIS_URL",
  "NATS_URL",
  "QDRANT_URL",
  "QDRANT_API_KEY",
  "LLMGW_EMBEDDINGS_BASE_URL",
  "LLMGW_EMBEDDINGS_API_KEY",
  "LLMGW_EMBEDDINGS_MODEL",
  "LLMGW_EMBEDDINGS_DIM",
  "LLMGW_SIMULATOR_URL",
  "SIM_LATENCY_MS",
  "SIM_TPS",
  "LLMGW_DATA_DIR",
  "LLMGW_API_KEY",
  "LLMGW_PRICES_FILE",
  "LLMGW_CACHE_PREFIX",
  "LLMGW_CACHE_MASTER_KEY",
  "LLMGW_BUDGET_PREFIX",
  "LLMGW_EVENTS_STREAM",
  "LLMGW_EVENTS_PREFIX",
  "LLMGW_RPC_CLIENT",
  "LLMGW_PROVIDER_FETCH",
  "LOG_LEVEL",
  "LLMGW_LOG_PROMPTS",
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "OTEL_EXPORTER_OTLP_HEADERS",
  "OTEL_SERVICE_NAME",
  "OTEL_SDK_DISABLED",
] as const;

export const DEFAULT_BUS_NAMES: BusNames = { stream: "LLMGW_EVENTS", prefix: "llmgw.events" };
export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";

/** The ledger database of embedded mode (and the CLIs' default). */
export function embeddedDatabaseUrl(settings: Pick<Settings, "dataDir">): string {
  return settings.dataDir === "memory" ? "pglite:memory" : `pglite:${settings.dataDir.replace(/\/$/, "")}/ledger`;
}

export class SettingsError extends Error {
  override name = "SettingsError";
}

function num(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v)) throw new SettingsError(`${name}=${raw} is not a number`);
  return v;
}

const str = (env: Env, name: string): string | undefined => {
  const v = env[name];
  return v === undefined || v === "" ? undefined : v;
};

/** Reads the settings; the config names which env variables hold provider keys. Fails fast. */
export function readSettings(env: Env, config?: Pick<Config, "providers">): Settings {
  const providerKeys: Record<string, string> = {};
  for (const p of Object.values(config?.providers ?? {})) {
    const v = str(env, p.api_key_env);
    if (v !== undefined) providerKeys[p.api_key_env] = v;
  }
  const rpc = str(env, "LLMGW_RPC_CLIENT") ?? "connect-h1";
  if (rpc !== "grpc-js" && rpc !== "connect" && rpc !== "connect-h1") throw new SettingsError(`LLMGW_RPC_CLIENT=${rpc}: expected connect-h1, grpc-js or connect`);
  const fetchKind = str(env, "LLMGW_PROVIDER_FETCH") ?? "undici";
  if (fetchKind !== "undici" && fetchKind !== "platform") throw new SettingsError(`LLMGW_PROVIDER_FETCH=${fetchKind}: expected undici or platform`);
  const qdrantUrl = str(env, "QDRANT_URL");
  const qdrantKey = str(env, "QDRANT_API_KEY");
  const embUrl = str(env, "LLMGW_EMBEDDINGS_BASE_URL");
  const simulatorUrl = str(env, "LLMGW_SIMULATOR_URL");
  const apiKey = str(env, "LLMGW_API_KEY");
  const metricsToken = str(env, "LLMGW_METRICS_TOKEN");
  const pricesFile = str(env, "LLMGW_PRICES_FILE");
  const databaseUrl = str(env, "LLMGW_DATABASE_URL") ?? str(env, "DATABASE_URL");
  return {
    ...(databaseUrl ? { databaseUrl } : {}),
    databaseSchema: str(env, "LLMGW_DATABASE_SCHEMA") ?? "",
    redisUrl: str(env, "REDIS_URL") ?? "redis://127.0.0.1:6379",
    natsUrl: str(env, "NATS_URL") ?? "nats://127.0.0.1:4222",
    ...(qdrantUrl ? { qdrant: { url: qdrantUrl, ...(qdrantKey ? { apiKey: qdrantKey } : {}) } } : {}),
    ...(embUrl
      ? {
          embeddings: {
            baseUrl: embUrl,
            apiKey: str(env, "LLMGW_EMBEDDINGS_API_KEY") ?? "none",
            model: str(env, "LLMGW_EMBEDDINGS_MODEL") ?? "text-embedding-3-small",
            dim: num(env, "LLMGW_EMBEDDINGS_DIM", 1536),
          },
        }
      : {}),
    ...(simulatorUrl ? { simulatorUrl } : {}),
    simulator: { latencyMs: num(env, "SIM_LATENCY_MS", 0), tokensPerSecond: num(env, "SIM_TPS", 0) },
    dataDir: str(env, "LLMGW_DATA_DIR") ?? "./data",
    ...(apiKey ? { bootstrapApiKey: apiKey } : {}),
    ...(metricsToken ? { metricsToken } : {}),
    ...(pricesFile ? { pricesFile } : {}),
    cachePrefix: str(env, "LLMGW_CACHE_PREFIX") ?? "llmgw:cache",
    ...(str(env, "LLMGW_CACHE_MASTER_KEY") ? { cacheMasterKey: str(env, "LLMGW_CACHE_MASTER_KEY") } : {}),
    budgetPrefix: str(env, "LLMGW_BUDGET_PREFIX") ?? "llmgw:",
    bus: { stream: str(env, "LLMGW_EVENTS_STREAM") ?? DEFAULT_BUS_NAMES.stream, prefix: str(env, "LLMGW_EVENTS_PREFIX") ?? DEFAULT_BUS_NAMES.prefix },
    rpcClient: rpc,
    providerFetch: fetchKind,
    log: { level: str(env, "LOG_LEVEL") ?? "info", prompts: env.LLMGW_LOG_PROMPTS === "1" },
    providerKeys,
    ...tracingSettings(env),
  };
}

/**
 * The OpenTelemetry exporter variables as the OTLP spec defines them: the traces endpoint as it is,
 * else the base endpoint + /v1/traces; headers as `k=v,k2=v2` (values URL-encoded).
 */
function tracingSettings(env: Env): Pick<Settings, "tracing"> {
  if (str(env, "OTEL_SDK_DISABLED")?.toLowerCase() === "true") return {};
  const base = str(env, "OTEL_EXPORTER_OTLP_ENDPOINT");
  const endpoint = str(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") ?? (base ? `${base.replace(/\/+$/, "")}/v1/traces` : undefined);
  if (!endpoint) return {};
  if (!/^https?:\/\//.test(endpoint)) throw new SettingsError(`OTLP endpoint ${endpoint}: expected an http(s) URL (OTLP/HTTP)`);
  const headers: Record<string, string> = {};
  for (const pair of (str(env, "OTEL_EXPORTER_OTLP_HEADERS") ?? "").split(",")) {
    const i = pair.indexOf("=");
    if (i <= 0) continue;
    headers[decodeURIComponent(pair.slice(0, i).trim())] = decodeURIComponent(pair.slice(i + 1).trim());
  }
  const serviceName = str(env, "OTEL_SERVICE_NAME");
  return { tracing: { endpoint, headers, ...(serviceName ? { serviceName } : {}) } };
}

/** Providers that have no key and may be played by the simulator. */
export function needsSimulator(config: Pick<Config, "providers">, settings: Pick<Settings, "providerKeys">): boolean {
  return Object.values(config.providers).some((p) => p.simulate_without_key && settings.providerKeys[p.api_key_env] === undefined);
}
