// Executor metrics on the registry the process owns.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { bindCounter, bindHistogram, ChildCache, type BoundCounter, type BoundHistogram } from "#libs/metrics/bound.ts";
import { genAiClientTokenUsage, type GenAiTokenUsage } from "#libs/metrics/genai.ts";
import type { Usage } from "../providers/types.ts";
import type { AttemptStatus, DeploymentHealth } from "./types.ts";

const BREAKER_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

/** The disjoint token kinds of llmgw_executor_tokens_total, in Usage's terms. */
const TOKEN_KINDS = [
  ["input", "inputTokens"],
  ["cached_input", "cachedInputTokens"],
  ["cache_write_5m", "cacheWrite5mTokens"],
  ["cache_write_1h", "cacheWrite1hTokens"],
  ["output", "outputTokens"],
  ["reasoning", "reasoningTokens"],
] as const satisfies readonly (readonly [string, keyof Usage])[];

/** One deployment's (model, provider) series, bound once: see libs/metrics/bound.ts. */
interface Children {
  attempts: Map<AttemptStatus, BoundCounter>;
  latency: Map<AttemptStatus, BoundHistogram>;
  tokens: BoundCounter[];
  genAiInput: BoundHistogram;
  genAiOutput: BoundHistogram;
}

export class ExecutorMetrics {
  private readonly attempts: Counter<"model" | "provider" | "outcome">;
  private readonly latency: Histogram<"model" | "provider" | "outcome">;
  private readonly tokens: Counter<"model" | "kind">;
  private readonly genAiTokens: GenAiTokenUsage;
  private readonly children = new ChildCache<Map<string, Children>>();

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

  private childrenOf(model: string, provider: string): Children {
    // By model, then provider: lookups with the deployment's own strings, no key built per call.
    const byProvider = this.children.get(model) ?? this.children.set(model, new Map());
    const hit = byProvider.get(provider);
    if (hit) return hit;
    const labels = { gen_ai_operation_name: "chat", gen_ai_provider_name: provider, gen_ai_request_model: model, gen_ai_response_model: model };
    const made: Children = {
      attempts: new Map(),
      latency: new Map(),
      tokens: TOKEN_KINDS.map(([kind]) => bindCounter(this.tokens, { model, kind })),
      genAiInput: bindHistogram(this.genAiTokens, { ...labels, gen_ai_token_type: "input" }),
      genAiOutput: bindHistogram(this.genAiTokens, { ...labels, gen_ai_token_type: "output" }),
    };
    byProvider.set(provider, made);
    return made;
  }

  attempt(model: string, provider: string, outcome: AttemptStatus, latencyMs: number): void {
    const c = this.childrenOf(model, provider);
    let n = c.attempts.get(outcome);
    if (!n) c.attempts.set(outcome, (n = bindCounter(this.attempts, { model, provider, outcome })));
    n.inc();
    if (outcome.startsWith("skipped")) return;
    let h = c.latency.get(outcome);
    if (!h) c.latency.set(outcome, (h = bindHistogram(this.latency, { model, provider, outcome })));
    h.observe(latencyMs / 1000);
  }

  usage(model: string, u: Usage, provider = ""): void {
    const c = this.childrenOf(model, provider);
    for (let i = 0; i < TOKEN_KINDS.length; i++) {
      const n = u[TOKEN_KINDS[i]![1]];
      if (n > 0) c.tokens[i]!.inc(n);
    }
    // The convention's two token types: input counts the disjoint cached and cache-write kinds; output already includes reasoning.
    c.genAiInput.observe(u.inputTokens + u.cachedInputTokens + u.cacheWrite5mTokens + u.cacheWrite1hTokens);
    c.genAiOutput.observe(u.outputTokens);
  }
}
