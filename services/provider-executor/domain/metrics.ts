// Executor metrics on the registry the process owns.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { genAiClientTokenUsage, type GenAiTokenUsage } from "#libs/metrics/genai.ts";
import type { Usage } from "../providers/types.ts";
import type { AttemptStatus, DeploymentHealth } from "./types.ts";

const BREAKER_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

export class ExecutorMetrics {
  private readonly attempts: Counter<"model" | "provider" | "outcome">;
  private readonly latency: Histogram<"model" | "provider" | "outcome">;
  private readonly tokens: Counter<"model" | "kind">;
  private readonly genAiTokens: GenAiTokenUsage;

  constructor(registry: Registry, health: () => DeploymentHealth[]) {
    this.attempts = new Counter({
      name: "llmgw_executor_attempts_total",
      help: "Provider attempts by model and outcome (ok, error, skipped_*).",
      labelNames: ["model", "provider", "outcome"],
      registers: [registry],
    });
    this.latency = new Histogram({
      name: "llmgw_executor_attempt_duration_seconds",
      help: "Provider attempt latency (for streams: until the last chunk).",
      labelNames: ["model", "provider", "outcome"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
      registers: [registry],
    });
    this.tokens = new Counter({
      name: "llmgw_executor_tokens_total",
      help: "Tokens by model and disjoint kind (input, cached_input, cache_write_5m, cache_write_1h, output, reasoning).",
      labelNames: ["model", "kind"],
      registers: [registry],
    });
    this.genAiTokens = genAiClientTokenUsage(registry);
    new Gauge({
      name: "llmgw_executor_breaker_state",
      help: "Circuit breaker state per model deployment: 0 closed, 1 half-open, 2 open.",
      labelNames: ["model"],
      registers: [registry],
      collect() {
        for (const h of health()) this.set({ model: h.model }, BREAKER_VALUE[h.state]);
      },
    });
    new Gauge({
      name: "llmgw_executor_in_flight",
      help: "Provider calls in flight per model deployment.",
      labelNames: ["model"],
      registers: [registry],
      collect() {
        for (const h of health()) this.set({ model: h.model }, h.inFlight);
      },
    });
  }

  attempt(model: string, provider: string, outcome: AttemptStatus, latencyMs: number): void {
    this.attempts.inc({ model, provider, outcome });
    if (!outcome.startsWith("skipped")) this.latency.observe({ model, provider, outcome }, latencyMs / 1000);
  }

  usage(model: string, u: Usage, provider = ""): void {
    const kinds: [string, number][] = [
      ["input", u.inputTokens],
      ["cached_input", u.cachedInputTokens],
      ["cache_write_5m", u.cacheWrite5mTokens],
      ["cache_write_1h", u.cacheWrite1hTokens],
      ["output", u.outputTokens],
      ["reasoning", u.reasoningTokens],
    ];
    for (const [kind, n] of kinds) if (n > 0) this.tokens.inc({ model, kind }, n);
    // The convention's two token types: input counts the disjoint cached and cache-write kinds; output already includes reasoning.
    const input = u.inputTokens + u.cachedInputTokens + u.cacheWrite5mTokens + u.cacheWrite1hTokens;
    const labels = { gen_ai_operation_name: "chat", gen_ai_provider_name: provider, gen_ai_request_model: model, gen_ai_response_model: model };
    this.genAiTokens.observe({ ...labels, gen_ai_token_type: "input" }, input);
    this.genAiTokens.observe({ ...labels, gen_ai_token_type: "output" }, u.outputTokens);
  }
}
