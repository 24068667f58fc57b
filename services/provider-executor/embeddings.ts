// Embeddings on OpenAI-type providers, with the chat engine's rules: per-attempt timeout, total
// deadline, retries with backoff on transient failures, a breaker and bulkhead per deployment. One
// model, no fallback: vectors of two models are not interchangeable, so another model is never "the same".
import OpenAI from "openai";
import type { Logger } from "pino";
import type { Config } from "#libs/config/schema.ts";
import { errors, GatewayError, isGatewayError } from "#libs/errors/openai-error.ts";
import { fromOpenAIUsage } from "#libs/pricing/usage-openai.ts";
import { ZERO_USAGE } from "#libs/pricing/usage-types.ts";
import { attemptAbort, sleep } from "./domain/abort.ts";
import type { Deployment } from "./domain/deployments.ts";
import { DeploymentGuard } from "./domain/guard.ts";
import { classifyFailure, DEFAULT_BACKOFF, retryDelayMs, type BackoffOptions } from "./domain/retry-policy.ts";
import type { AttemptRecord, AttemptStatus, Usage } from "./domain/types.ts";
import { fromSdkError, gatewayErrorFromFailure, stringField } from "./providers/errors.ts";
import { providerFetch } from "./providers/undici-fetch.ts";

export interface EmbedCall {
  requestId: string;
  model: string;
  /** The client's OpenAI embeddings body; model and encoding_format are set here. */
  body: Record<string, unknown>;
  totalTimeoutMs?: number;
  signal?: AbortSignal;
}

export type EmbedOutcome =
  | { ok: true; response: OpenAI.CreateEmbeddingResponse; model: string; provider: string; usage: Usage; attempts: AttemptRecord[]; latencyMs: number }
  | { ok: false; error: GatewayError; attempts: AttemptRecord[] };

export interface EmbeddingsOptions {
  config: Config;
  deployment: (model: string) => Readonly<Deployment> | undefined;
  logger?: Logger;
  fetch?: typeof fetch;
  backoff?: Partial<BackoffOptions>;
  random?: () => number;
  now?: () => number;
}

export class ProviderEmbeddings {
  private readonly clients = new Map<string, OpenAI>();
  private readonly guards = new Map<string, DeploymentGuard>();
  private readonly exec: Config["executor"];
  private readonly backoff: BackoffOptions;
  private readonly now: () => number;

  constructor(private readonly o: EmbeddingsOptions) {
    this.exec = o.config.executor;
    this.backoff = { ...DEFAULT_BACKOFF, ...o.backoff };
    this.now = o.now ?? Date.now;
  }

  async embed(call: EmbedCall): Promise<EmbedOutcome> {
    const attempts: AttemptRecord[] = [];
    const startedAt = this.now();
    const dep = this.o.deployment(call.model);
    const skip = (status: AttemptStatus, code: string, provider = ""): void => {
      attempts.push({ model: call.model, provider, status, httpStatus: 0, errorCode: code, latencyMs: 0, usage: null });
    };
    if (!dep) {
      skip("skipped_unknown_model", "model_not_found");
      return { ok: false, error: errors.modelNotFound(call.model), attempts };
    }
    if (dep.providerType !== "openai") {
      return { ok: false, error: errors.badRequest(`Model '${call.model}' is served by provider '${dep.providerId}', which offers no embeddings endpoint.`, "model", "model_not_embedding"), attempts };
    }
    if (dep.apiKey === null) {
      skip("skipped_no_credentials", "no_api_key", dep.providerId);
      return { ok: false, error: errors.unavailable(`No credentials for provider '${dep.providerId}'.`, 5), attempts };
    }
    const client = this.client(dep, dep.apiKey);
    const guard = this.guard(dep);
    const total = call.totalTimeoutMs && call.totalTimeoutMs > 0 ? call.totalTimeoutMs : this.exec.total_timeout_ms;
    const deadlineAt = startedAt + total;
    // base64 upstream: float32 exactly as the provider computed it, a quarter of the JSON text.
    const body = { ...call.body, model: dep.upstreamModel, encoding_format: "base64" } as OpenAI.EmbeddingCreateParams;
    let lastError: GatewayError = errors.badGateway(`Provider '${dep.providerId}' gave no answer.`);
    for (let retry = 0; ; retry++) {
      if (this.now() >= deadlineAt) {
        skip("skipped_deadline", "timeout", dep.providerId);
        return { ok: false, error: errors.timeout(`The request deadline of ${total} ms passed before the provider answered.`), attempts };
      }
      const abort = attemptAbort(call.signal, deadlineAt, this.exec.attempt_timeout_ms, this.now);
      const t0 = this.now();
      try {
        const entered = await guard.enter(abort.signal);
        if (!entered.ok) {
          if (entered.reason === "cancelled") return { ok: false, error: clientGone(), attempts };
          skip(entered.reason === "breaker_open" ? "skipped_breaker_open" : "skipped_concurrency", entered.reason, dep.providerId);
          return { ok: false, error: errors.unavailable(`Model '${call.model}' is not taking requests right now (${entered.reason}).`, 1), attempts };
        }
        try {
          const response = await client.embeddings.create(body, { signal: abort.signal });
          entered.lease.release();
          const usage: Usage = response.usage ? fromOpenAIUsage({ prompt_tokens: response.usage.prompt_tokens, completion_tokens: 0, total_tokens: response.usage.total_tokens }) : { ...ZERO_USAGE };
          attempts.push({ model: dep.model, provider: dep.providerId, status: "ok", httpStatus: 200, errorCode: "", latencyMs: Math.max(0, this.now() - t0), usage });
          return { ok: true, response: { ...response, model: dep.model }, model: dep.model, provider: dep.providerId, usage, attempts, latencyMs: Math.max(0, this.now() - startedAt) };
        } catch (e) {
          const error = abort.cause() === "client" ? clientGone() : abort.cause() !== null ? errors.timeout(`Provider '${dep.providerId}' did not answer for model '${dep.model}' in time.`) : this.toError(e, dep);
          entered.lease.release(error);
          attempts.push({ model: dep.model, provider: dep.providerId, status: "error", httpStatus: error.status, errorCode: error.code ?? "", latencyMs: Math.max(0, this.now() - t0), usage: null });
          this.o.logger?.warn({ requestId: call.requestId, model: dep.model, status: error.status, code: error.code }, "embeddings attempt failed");
          lastError = error;
          if (abort.cause() === "client") return { ok: false, error, attempts };
        }
      } finally {
        abort.dispose();
      }
      const cls = classifyFailure(lastError);
      if (!cls.retry || retry >= this.exec.max_retries) return { ok: false, error: lastError, attempts };
      const delay = retryDelayMs(retry, lastError.retryAfterSec, this.backoff, this.o.random ?? Math.random);
      if (delay === null || this.now() + delay >= deadlineAt) return { ok: false, error: lastError, attempts };
      if (!(await sleep(delay, call.signal))) return { ok: false, error: clientGone(), attempts };
    }
  }

  private toError(e: unknown, dep: Readonly<Deployment>): GatewayError {
    if (isGatewayError(e)) return e;
    return gatewayErrorFromFailure(fromSdkError(e, OpenAI, (err) => ({ message: stringField(err, "message"), code: stringField(err, "code"), param: stringField(err, "param") })), dep.providerId, e);
  }

  private client(dep: Readonly<Deployment>, apiKey: string): OpenAI {
    let c = this.clients.get(dep.providerId);
    if (!c) {
      c = new OpenAI({ baseURL: dep.baseURL, apiKey, maxRetries: 0, timeout: this.exec.attempt_timeout_ms + 1_000, logLevel: "off", fetch: this.o.fetch ?? providerFetch() });
      this.clients.set(dep.providerId, c);
    }
    return c;
  }

  private guard(dep: Readonly<Deployment>): DeploymentGuard {
    let g = this.guards.get(dep.model);
    if (!g) {
      g = new DeploymentGuard({
        failureThreshold: this.exec.breaker_failures,
        halfOpenAfterMs: this.exec.breaker_half_open_after_ms,
        maxConcurrency: dep.maxConcurrency,
        queueSize: Math.min(16, dep.maxConcurrency),
        countsAsFailure: (e) => isGatewayError(e) && classifyFailure(e).breaker,
      });
      this.guards.set(dep.model, g);
    }
    return g;
  }
}

function clientGone(): GatewayError {
  return new GatewayError({ status: 499, type: "invalid_request_error", code: "client_closed_request", message: "The client closed the request." });
}
