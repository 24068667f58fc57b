// Which model an Anthropic request names. Anthropic clients (Claude Code first) send dated snapshots
// ("claude-sonnet-4-5-20250929"); the price table knows them as aliases of a configured model, which
// is then honoured. Aliases ("auto") route as on every other route; anything else stays as sent and
// the pipeline answers 404.
import type { EdgeDeps } from "../deps.ts";

export function resolveModel(deps: Pick<EdgeDeps, "config" | "pricing">, requested: string): string {
  const { config } = deps;
  if (config.edge.aliases.includes(requested) || config.models[requested]) return requested;
  const canonical = deps.pricing.canonical?.(requested);
  return canonical && config.models[canonical] ? canonical : requested;
}

export function isKnownModel(deps: Pick<EdgeDeps, "config">, model: string): boolean {
  return deps.config.edge.aliases.includes(model) || deps.config.models[model] !== undefined;
}
