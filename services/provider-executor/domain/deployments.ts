// Model ids → deployments (provider, endpoint, key, limits) from config and env. Pure.
import type { ProviderType } from "#libs/config/closed-sets.ts";
import type { LiveQueueConfig } from "#libs/config/live-queue.ts";
import type { Capability, Config } from "#libs/config/schema.ts";

export interface Deployment {
  model: string;
  providerId: string;
  providerType: ProviderType;
  baseURL: string;
  /** Null when no key is set and no simulator override applies: the deployment cannot be called. */
  apiKey: string | null;
  upstreamModel: string;
  contextWindow: number;
  maxOutputTokens: number;
  capabilities: ReadonlySet<Capability>;
  maxConcurrency: number;
  /** Bounded live queue in front of maxConcurrency (models.<id>.queue); null = off. */
  queue: LiveQueueConfig | null;
  /** false: the provider has no batch API (providers.<id>.batch_api); absent = it has one. */
  batchApi?: boolean;
}

/** Key the SDKs send to a simulator (they refuse to start without one). */
export const SIMULATOR_API_KEY = "llmgw-simulator";

export function resolveDeployments(
  config: Config,
  env: Record<string, string | undefined>,
  baseUrlOverride?: (providerId: string) => string | undefined,
): Map<string, Deployment> {
  const out = new Map<string, Deployment>();
  for (const [model, m] of Object.entries(config.models)) {
    const p = config.providers[m.provider];
    if (!p) continue; // the config schema already rejects this
    const key = env[p.api_key_env];
    const override = baseUrlOverride?.(m.provider);
    const hasKey = key !== undefined && key !== "";
    out.set(model, {
      model,
      providerId: m.provider,
      providerType: p.type,
      baseURL: override ?? p.base_url,
      apiKey: hasKey ? key : override !== undefined ? SIMULATOR_API_KEY : null,
      upstreamModel: m.upstream ?? model,
      contextWindow: m.context_window,
      maxOutputTokens: m.max_output_tokens,
      capabilities: new Set(m.capabilities),
      maxConcurrency: m.max_concurrency,
      queue: m.queue ?? null,
      batchApi: p.batch_api,
    });
  }
  return out;
}
