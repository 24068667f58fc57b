// The one configuration file (deploy/config/llmgw.yaml), validated at start. Secrets never live here:
// providers name the env variable that holds their key.
import { routingOverridesSchema } from "./routing-overrides.ts";
import { z } from "zod";
import { PROVIDER_TYPES, STRATEGIES, TIER_NAMES } from "./closed-sets.ts";
import { limitsSchema } from "./limits.ts";
import { responsesSchema } from "./responses.ts";
import { batchesSchema } from "./batches.ts";
import { budgetsSchema, dependenciesSchema } from "./resilience.ts";
import { rateLimitsSchema } from "./rate-limits.ts";
import { liveQueueIssues, liveQueueSchema } from "./live-queue.ts";

// reasoning: takes reasoning_effort (other models' APIs refuse it).
/**
 * Tables looked up by names clients send ("model": "constructor"): a null-prototype object, so only
 * configured names answer, never an inherited key.
 */
function ownKeysOnly<T>(table: Record<string, T>): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, table);
}

export const capabilitySchema = z.enum(["tools", "json_mode", "vision", "streaming", "reasoning"]);
export type Capability = z.infer<typeof capabilitySchema>;

export const tierSchema = z.enum(TIER_NAMES);

export const providerSchema = z
  .object({
    type: z.enum(PROVIDER_TYPES),
    base_url: z.string().url(),
    api_key_env: z.string().min(1),
    // With no key in env, use the bundled simulator instead (embedded demo, tests).
    simulate_without_key: z.boolean().default(true),
    // The provider has a batch API (OpenAI Batch, Anthropic Message Batches) the executor can submit to; a
    // self-hosted OpenAI-compatible server usually has none (set false: its batch lines must run live).
    batch_api: z.boolean().default(true),
  })
  .strict();
export type ProviderConfig = z.infer<typeof providerSchema>;

export const modelSchema = z
  .object({
    provider: z.string().min(1),
    upstream: z.string().min(1).optional(),
    context_window: z.number().int().positive(),
    max_output_tokens: z.number().int().positive().default(4096),
    capabilities: z.array(capabilitySchema).default(["streaming"]),
    // Measured p50 latency; the "latency" strategy sorts by it.
    latency_ms: z.number().nonnegative().default(500),
    // Quality rank used by the "quality" strategy (higher is better).
    quality: z.number().min(0).max(1).default(0.5),
    max_concurrency: z.number().int().positive().default(64),
    // Bounded wait queue and optional micro-batching in front of max_concurrency (live-queue.ts); absent = off.
    queue: liveQueueSchema.optional(),
    // "embedding": served on /v1/embeddings only, never routed to for chat (tiers may not name it).
    kind: z.enum(["chat", "embedding"]).default("chat"),
    // An embedding model's native vector size: a request's `dimensions` may shorten it, never exceed it.
    dimensions: z.number().int().positive().optional(),
  })
  .strict();
export type ModelConfig = z.infer<typeof modelSchema>;

const serviceAddressSchema = z
  .object({
    // host:port of the gRPC endpoint, used by clients in mesh mode.
    address: z.string().min(1),
    rpc_port: z.number().int().min(0).max(65535),
    admin_port: z.number().int().min(0).max(65535),
  })
  .strict();

export const configSchema = z
  .object({
    edge: z
      .object({
        port: z.number().int().min(0).max(65535).default(8080),
        host: z.string().default("0.0.0.0"),
        body_limit_bytes: z.number().int().positive().default(4 * 1024 * 1024),
        request_timeout_ms: z.number().int().positive().default(120_000),
        // Model names that mean "let the gateway route".
        aliases: z.array(z.string().min(1)).default(["auto"]),
        // Bounds on the work one request may ask for (limits.ts); each exceeded limit is a 400 naming it.
        limits: limitsSchema.default({}),
      })
      .strict(),
    providers: z.record(z.string(), providerSchema).transform(ownKeysOnly),
    models: z.record(z.string(), modelSchema).transform(ownKeysOnly),
    routing: z
      .object({
        strategy: z.enum(STRATEGIES).default("cost"),
        tiers: z.record(tierSchema, z.array(z.string().min(1)).min(1)),
        // Model whose price defines the baseline cost of an "auto" request.
        reference_model: z.string().min(1),
        cascade: z
          .object({
            enabled: z.boolean().default(true),
            tiers: z.array(tierSchema).default(["MEDIUM"]),
            categories: z.array(z.string()).default([]),
          })
          .strict()
          .default({}),
        // Evidence-based exceptions to the tiers (proposed by `npm run analyze`, reviewed, pasted here).
        overrides: routingOverridesSchema.default([]),
        // Shadow tests: the router samples this share of routed requests in these tiers and names
        // up to `candidates` cheaper models (the next tier down) to replay them on after the answer.
        shadow: z
          .object({
            sample_rate: z.number().min(0).max(1).default(0),
            tiers: z.array(tierSchema).default(["HIGH"]),
            candidates: z.number().int().min(1).max(4).default(1),
            // Shadow replays stop for the day (UTC) once their worst-case cost would pass this.
            daily_cap_usd: z.number().min(0).default(5),
            // Tenants whose traffic is never replayed (data residency, PII).
            exclude_tenants: z.array(z.string()).default([]),
            // Share of semantic cache hits replayed on the model that wrote the cached answer, so the
            // evaluator judges whether the cached answer fits the new question: the cache's measured
            // wrong-hit rate (GET /v1/llmgw/cache/quality). One provider call each, within daily_cap_usd.
            cache_audit_rate: z.number().min(0).max(1).default(0),
            // Keep each tested prompt (roles and text) beside its verdict, so `train:router --shadow`
            // can learn from a tenant's own traffic. Off: verdicts only.
            store_inputs: z.boolean().default(true),
          })
          .strict()
          .default({}),
        // A policy version on trial (set through the admin API with a share): of the requests its
        // overrides send to a cheaper model, this share is replayed on the model the live version
        // would have used, so the canary's quality is measured, not assumed. Shadow spend cap applies.
        canary: z
          .object({
            shadow_rate: z.number().min(0).max(1).default(0.5),
          })
          .strict()
          .default({}),
      })
      .strict(),
    executor: z
      .object({
        attempt_timeout_ms: z.number().int().positive().default(60_000),
        total_timeout_ms: z.number().int().positive().default(120_000),
        max_retries: z.number().int().min(0).default(2),
        breaker_failures: z.number().int().positive().default(5),
        breaker_half_open_after_ms: z.number().int().positive().default(10_000),
      })
      .strict()
      .default({}),
    // Timeouts of calls to dependencies and budget admission during a Redis outage (resilience.ts).
    dependencies: dependenciesSchema.default({}),
    budgets: budgetsSchema.default({}),
    // Default requests/tokens per minute and day for tenants and keys the admin API set none for.
    rate_limits: rateLimitsSchema.default({}),
    services: z
      .object({
        classifier: serviceAddressSchema,
        cache: serviceAddressSchema,
        router: serviceAddressSchema,
        executor: serviceAddressSchema,
        evaluator: serviceAddressSchema,
        ledger: serviceAddressSchema,
      })
      .strict(),
    // Stored Responses API answers (the ledger keeps them).
    responses: responsesSchema.default({}),
    // The Batches API's limits and its worker (edge).
    batches: batchesSchema.default({}),
    // Sections owned by one service each; validated by that service's own schema at start.
    cache: z.record(z.string(), z.unknown()).default({}),
    classifier: z.record(z.string(), z.unknown()).default({}),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    for (const [id, m] of Object.entries(cfg.models)) {
      if (!cfg.providers[m.provider]) {
        ctx.addIssue({ code: "custom", path: ["models", id, "provider"], message: `unknown provider '${m.provider}'` });
      }
      if (m.queue) for (const i of liveQueueIssues(m.queue, m.max_concurrency)) ctx.addIssue({ code: "custom", path: ["models", id, ...i.path], message: i.message });
    }
    for (const [tier, list] of Object.entries(cfg.routing.tiers)) {
      list.forEach((model, i) => {
        if (!cfg.models[model]) {
          ctx.addIssue({ code: "custom", path: ["routing", "tiers", tier, i], message: `unknown model '${model}'` });
        } else if (cfg.models[model].kind === "embedding") {
          ctx.addIssue({ code: "custom", path: ["routing", "tiers", tier, i], message: `'${model}' is an embedding model` });
        }
      });
    }
    if (!cfg.models[cfg.routing.reference_model]) {
      ctx.addIssue({ code: "custom", path: ["routing", "reference_model"], message: "unknown model" });
    }
  });

export type Config = z.infer<typeof configSchema>;

/** A deep copy that keeps the name-keyed tables without inherited keys (structuredClone alone gives them a prototype). */
export function cloneConfig(config: Config): Config {
  const c = structuredClone(config);
  return { ...c, providers: ownKeysOnly(c.providers), models: ownKeysOnly(c.models) };
}
