// Model views from config and the price table.
import type { Config } from "#libs/config/schema.ts";
import type { PriceTable } from "#libs/pricing/index.ts";
import type { ModelView } from "./types.ts";

/** Blend of input and output prices (3:1, a typical chat mix) for ordering by cost. */
export function blendedPrice(prices: PriceTable, model: string, at: Date): number | undefined {
  const p = prices.priceAt(model, at);
  return p ? p.input.mul(3).plus(p.output).div(4).toNumber() : undefined;
}

export function modelViews(config: Config, prices: PriceTable, at = new Date()): Map<string, ModelView> {
  const out = new Map<string, ModelView>();
  for (const [id, m] of Object.entries(config.models)) {
    out.set(id, {
      id,
      provider: m.provider,
      upstream: m.upstream ?? id,
      contextWindow: m.context_window,
      maxOutputTokens: m.max_output_tokens,
      capabilities: m.capabilities,
      latencyMs: m.latency_ms,
      quality: m.quality,
      blendedPrice: blendedPrice(prices, id, at),
    });
  }
  return out;
}
