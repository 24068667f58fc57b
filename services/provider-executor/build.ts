// Builds the executor. Providers whose key is not in the settings are pointed at the simulator when
// one is given (LLMGW_SIMULATOR_URL, or the one the embedded root starts), so the gateway runs with no keys.
import { ExecutorService } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import type { Config } from "#libs/config/schema.ts";
import type { Settings } from "#libs/config/settings.ts";
import type { BuildContext, BuiltService } from "#libs/server/service-parts.ts";
import { ExecutorEngine, warmTokenizer } from "./domain/engine.ts";
import { ProviderEmbeddings } from "./embeddings.ts";
import { ExecutorServiceImpl } from "./service.ts";

export function simulatorOverride(config: Config, settings: Pick<Settings, "simulatorUrl" | "providerKeys">): (providerId: string) => string | undefined {
  return (providerId) => {
    const p = config.providers[providerId];
    const sim = settings.simulatorUrl;
    if (!p || !sim || !p.simulate_without_key || settings.providerKeys[p.api_key_env] !== undefined) return undefined;
    return p.type === "openai" ? `${sim}/v1` : sim;
  };
}

export async function buildExecutorService(ctx: BuildContext): Promise<BuiltService<typeof ExecutorService>> {
  const override = simulatorOverride(ctx.config, ctx.settings);
  for (const [id, p] of Object.entries(ctx.config.providers)) {
    const sim = override(id);
    if (sim) ctx.logger.warn({ provider: id, simulator: sim }, `no ${p.api_key_env} in env: provider '${id}' is served by the simulator`);
  }
  // Building the tokenizer takes a second or more; pay it at start, not on a request.
  warmTokenizer();
  const engine = new ExecutorEngine({
    config: ctx.config,
    env: ctx.settings.providerKeys,
    providerBaseUrlOverride: override,
    logger: ctx.logger,
    registry: ctx.registry,
    ...(ctx.settings.providerFetch === "platform" ? { fetch: globalThis.fetch } : {}),
  });
  const embeddings = new ProviderEmbeddings({ config: ctx.config, deployment: (m) => engine.deployment(m), logger: ctx.logger, ...(ctx.settings.providerFetch === "platform" ? { fetch: globalThis.fetch } : {}) });
  return { service: ExecutorService, impl: new ExecutorServiceImpl(engine, embeddings), ready: async () => true, close: async () => {} };
}
