// Builds the executor. Providers whose key is not in env are pointed at the simulator when one is
// given (LLMGW_SIMULATOR_URL, or the embedded one), so the gateway runs with no keys at all.
import { ExecutorService } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import type { BuildContext, BuiltService } from "#libs/server/service-parts.ts";
import { ExecutorEngine, warmTokenizer } from "./domain/engine.ts";
import { ExecutorServiceImpl } from "./service.ts";

export function simulatorOverride(ctx: BuildContext, simulatorUrl: string | undefined): (providerId: string) => string | undefined {
  return (providerId) => {
    const p = ctx.config.providers[providerId];
    if (!p || !simulatorUrl || !p.simulate_without_key || ctx.env[p.api_key_env]) return undefined;
    return p.type === "openai" ? `${simulatorUrl}/v1` : simulatorUrl;
  };
}

export async function buildExecutorService(ctx: BuildContext, simulatorUrl = ctx.env.LLMGW_SIMULATOR_URL): Promise<BuiltService<typeof ExecutorService>> {
  const override = simulatorOverride(ctx, simulatorUrl);
  for (const [id, p] of Object.entries(ctx.config.providers)) {
    const sim = override(id);
    if (sim) ctx.logger.warn({ provider: id, simulator: sim }, `no ${p.api_key_env} in env: provider '${id}' is served by the simulator`);
  }
  // Building the tokenizer takes a second or more; pay it at start, not on a request.
  warmTokenizer();
  const engine = new ExecutorEngine({ config: ctx.config, env: ctx.env, providerBaseUrlOverride: override, logger: ctx.logger, registry: ctx.registry });
  return { service: ExecutorService, impl: new ExecutorServiceImpl(engine), ready: async () => true, close: async () => {} };
}
