// The executor: for one request, walk the candidate list; per candidate check capability and context
// window, take a breaker+bulkhead lease, call the provider with a per-attempt timeout, retry transient
// failures with backoff (honouring Retry-After), fall back to the next candidate, and record every attempt.
// Streams are retried or failed over only before their first chunk has been emitted.
import type { Logger } from "pino";
import { Registry } from "prom-client";
import type { Config } from "#libs/config/schema.ts";
import { GatewayError, errors, isGatewayError } from "#libs/errors/openai-error.ts";
import { countTokens } from "#libs/tokens/count.ts";
import { tracingOn } from "#libs/tracing/tracing.ts";
import { ADAPTERS } from "../providers/factory.ts";
import { countPromptTokens } from "../providers/tokens.ts";
import type { CallOptions, ChatChunk, ProviderAdapter, Usage } from "../providers/types.ts";
import { ZERO_USAGE } from "../providers/types.ts";
import { attemptAbort, sleep, type AttemptAbort } from "./abort.ts";
import { resolveDeployments, type Deployment } from "./deployments.ts";
import { OutputText, streamUsage } from "./estimate.ts";
import { errorFromSkips } from "./final-error.ts";
import { DeploymentGuard } from "./guard.ts";
import { recordAttemptSpan } from "./attempt-span.ts";
import { ExecutorMetrics } from "./metrics.ts";
import type { Slot } from "./deployment-queue.ts";
import { LiveQueues, queueRefusalError } from "./live-queues.ts";
import { DEFAULT_BACKOFF, classifyFailure, retryDelayMs, type BackoffOptions } from "./retry-policy.ts";
import type { AttemptRecord, AttemptStatus, DeploymentHealth, ExecEvent, ExecuteRequest } from "./types.ts";

export type { AttemptRecord, AttemptStatus, DeploymentHealth, ExecEvent, ExecSummary, ExecuteRequest, Usage } from "./types.ts";
export { warmTokenizer } from "#libs/tokens/count.ts";

export interface ExecutorEngineOptions {
  config: Config;
  env: Record<string, string | undefined>;
  /** Points a provider elsewhere (the simulator when no key is set); undefined keeps the configured URL. */
  providerBaseUrlOverride?: (providerId: string) => string | undefined;
  logger?: Logger;
  /** Metrics go here; a private registry when omitted. */
  registry?: Registry;
  /** Milliseconds clock for latencies and deadlines. */
  now?: () => number;
  backoff?: Partial<BackoffOptions>;
  /** Callers that may queue for a busy deployment before it refuses; default min(16, max_concurrency). */
  bulkheadQueueSize?: number;
  random?: () => number;
  /** The fetch provider SDKs use; default the shared undici-backed one (settings.providerFetch). */
  fetch?: typeof fetch;
}

type Outcome =
  | { kind: "done" }
  | { kind: "skipped" }
  /** Failed before any output: may be retried or failed over. */
  | { kind: "failed"; error: GatewayError }
  /** Cannot be retried: output already emitted, or the client is gone. */
  | { kind: "fatal"; error: GatewayError }
  /** Over the deployment's live-queue bound: not retried (that would queue again); another candidate may answer. */
  | { kind: "refused"; error: GatewayError };

interface RunState {
  req: ExecuteRequest;
  attempts: AttemptRecord[];
  startedAt: number;
  deadlineAt: number;
  promptTokens: () => number;
}

export class ExecutorEngine {
  readonly registry: Registry;
  private readonly deployments: Map<string, Deployment>;
  private readonly adapters = new Map<string, ProviderAdapter>();
  private readonly guards = new Map<string, DeploymentGuard>();
  private readonly metrics: ExecutorMetrics;
  private readonly liveQueues: LiveQueues;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly backoff: BackoffOptions;
  private readonly exec: Config["executor"];

  constructor(private readonly o: ExecutorEngineOptions) {
    this.exec = o.config.executor;
    this.now = o.now ?? Date.now;
    this.random = o.random ?? Math.random;
    this.backoff = { ...DEFAULT_BACKOFF, ...o.backoff };
    this.deployments = resolveDeployments(o.config, o.env, o.providerBaseUrlOverride);
    for (const dep of this.deployments.values()) {
      this.guards.set(
        dep.model,
        new DeploymentGuard({
          failureThreshold: this.exec.breaker_failures,
          halfOpenAfterMs: this.exec.breaker_half_open_after_ms,
          maxConcurrency: dep.maxConcurrency,
          // Behind a live queue the bulkhead only sees admitted calls, but frees its slots a few microtasks
          // after the queue does: room for a whole released wave keeps that lag from refusing one.
          queueSize: o.bulkheadQueueSize ?? (dep.queue ? dep.maxConcurrency : Math.min(16, dep.maxConcurrency)),
          countsAsFailure: (e) => isGatewayError(e) && classifyFailure(e).breaker,
        }),
      );
    }
    this.registry = o.registry ?? new Registry();
    this.metrics = new ExecutorMetrics(this.registry, () => this.health());
    this.liveQueues = new LiveQueues(this.deployments.values(), this.registry);
  }

  /** Breaker state and load per configured model, for the router's health view. */
  health(): DeploymentHealth[] {
    return [...this.guards].map(([model, g]) => ({ model, state: g.state(), inFlight: g.inFlight() }));
  }

  /** Known deployments (model id → provider, limits), e.g. for readiness output. */
  deployment(model: string): Readonly<Deployment> | undefined {
    return this.deployments.get(model);
  }

  async *execute(req: ExecuteRequest): AsyncGenerator<ExecEvent, void, undefined> {
    const startedAt = this.now();
    const total = req.totalTimeoutMs !== undefined && req.totalTimeoutMs > 0 ? req.totalTimeoutMs : this.exec.total_timeout_ms;
    let prompt: number | undefined;
    const run: RunState = {
      req,
      attempts: [],
      startedAt,
      deadlineAt: startedAt + total,
      promptTokens: () => (prompt ??= countPromptTokens(req.body)),
    };
    let lastError: GatewayError | null = null;

    candidates: for (const cand of req.candidates) {
      const dep = this.deployments.get(cand.model);
      if (!dep) {
        this.skip(run, cand.model, "", "skipped_unknown_model", "model_not_found");
        continue;
      }
      // Capability and context fit were decided by the router when it named the candidates; a
      // provider that still refuses (its own tokenizer) answers 400, which falls back like any other.
      const adapter = this.adapterFor(dep);
      if (!adapter) {
        this.skip(run, dep.model, dep.providerId, "skipped_no_credentials", "no_api_key");
        continue;
      }
      for (let retry = 0; ; retry++) {
        if (this.now() >= run.deadlineAt) {
          this.skip(run, dep.model, dep.providerId, "skipped_deadline", "timeout");
          lastError = errors.timeout(`The request deadline of ${total} ms passed before a provider answered.`);
          break candidates;
        }
        const outcome: Outcome = yield* this.attempt(run, dep, adapter);
        if (outcome.kind === "done") return;
        if (outcome.kind === "skipped") continue candidates;
        if (outcome.kind === "refused") {
          lastError = outcome.error;
          continue candidates;
        }
        if (outcome.kind === "fatal") {
          yield { type: "failure", error: outcome.error, attempts: run.attempts };
          return;
        }
        lastError = outcome.error;
        const cls = classifyFailure(outcome.error);
        if (!cls.fallback) {
          yield { type: "failure", error: outcome.error, attempts: run.attempts };
          return;
        }
        if (!cls.retry || retry >= this.exec.max_retries) continue candidates;
        const delay = retryDelayMs(retry, outcome.error.retryAfterSec, this.backoff, this.random);
        if (delay === null || this.now() + delay >= run.deadlineAt) continue candidates;
        if (!(await sleep(delay, req.signal))) {
          yield { type: "failure", error: clientGone(), attempts: run.attempts };
          return;
        }
      }
    }
    yield { type: "failure", error: lastError ?? errorFromSkips(run.attempts, prompt), attempts: run.attempts };
  }

  /** One provider call. Yields the answer's events; returns what happened. */
  private async *attempt(run: RunState, dep: Deployment, adapter: ProviderAdapter): AsyncGenerator<ExecEvent, Outcome, undefined> {
    const guard = this.guards.get(dep.model);
    if (!guard) throw new Error(`no guard for ${dep.model}`); // constructed for every deployment
    const abort = attemptAbort(run.req.signal, run.deadlineAt, this.exec.attempt_timeout_ms, this.now);
    let t0 = this.now();
    let slot: Slot | undefined;
    try {
      const queue = this.liveQueues.get(dep.model);
      const queued = queue ? await queue.acquire(abort.signal) : null;
      if (queued && !queued.ok && queued.reason !== "cancelled") {
        this.skip(run, dep.model, dep.providerId, "skipped_queue", queued.reason);
        return { kind: "refused", error: queueRefusalError(dep.model, queued.reason, queued.retryAfterSec) };
      }
      if (queued?.ok) {
        slot = queued.slot;
        t0 = this.now(); // the attempt's latency is the provider's; the wait has its own histogram
      }
      const entered = queued && !queued.ok ? ({ ok: false, reason: "cancelled" } as const) : await guard.enter(abort);
      if (!entered.ok) {
        if (entered.reason === "cancelled") {
          const error = this.abortError(abort, dep);
          this.record(run, dep, "error", t0, error, null);
          return abort.cause() === "client" ? { kind: "fatal", error } : { kind: "failed", error };
        }
        this.skip(run, dep.model, dep.providerId, entered.reason === "breaker_open" ? "skipped_breaker_open" : "skipped_concurrency", entered.reason);
        return { kind: "skipped" };
      }
      const lease = entered.lease;
      // The AbortSignal is made only if the adapter reads it (SDK calls); the direct call takes the emitter.
      const opts: CallOptions = {
        upstreamModel: dep.upstreamModel,
        reportedModel: dep.model,
        defaultMaxTokens: dep.maxOutputTokens,
        get signal() {
          return abort.signal;
        },
        abortEmitter: abort.emitter,
      };
      const fail = (e: unknown, usage: Usage | null, emitted: boolean): Outcome => {
        const error = this.callError(e, abort, dep);
        lease.release(error);
        this.record(run, dep, "error", t0, error, usage);
        return emitted || abort.cause() === "client" ? { kind: "fatal", error } : { kind: "failed", error };
      };

      if (!run.req.stream) {
        let result;
        try {
          result = await adapter.complete(run.req.body, opts);
        } catch (e) {
          return fail(e, null, false);
        }
        lease.release();
        const c = result.completion;
        const usage = result.usage ?? this.estimateCompletion(run, c.choices[0]?.message.content ?? "");
        this.record(run, dep, "ok", t0, null, usage);
        yield { type: "completion", completion: c };
        yield { type: "summary", summary: this.summary(run, dep, usage, c.choices[0]?.finish_reason ?? "") };
        return { kind: "done" };
      }

      let stream;
      let it: AsyncIterator<ChatChunk>;
      let next: IteratorResult<ChatChunk>;
      const held: ChatChunk[] = [];
      try {
        stream = await adapter.openStream(run.req.body, opts);
        it = stream.chunks[Symbol.asyncIterator]();
        next = await it.next();
        // Role-only preambles carry nothing the client needs yet; holding them back keeps a failure right
        // after them (e.g. Anthropic's overloaded error event after message_start) retryable.
        while (!next.done && isPreamble(next.value)) {
          held.push(next.value);
          next = await it.next();
        }
      } catch (e) {
        return fail(e, null, false);
      }
      if (abort.cause() !== null) return fail(null, null, false);
      if (next.done && held.length === 0) return fail(errors.badGateway(`Provider '${dep.providerId}' closed the stream without any data.`), null, false);
      // From here the client has output: no retry, no fallback.
      abort.stopAttemptTimer();
      const seen = new OutputText();
      const wantsUsage = run.req.body.stream_options?.include_usage === true;
      let finish = "";
      let completed = false;
      try {
        let batch: ChatChunk[] = next.done ? held : [...held, next.value];
        while (batch.length > 0) {
          for (const chunk of batch) {
            seen.add(chunk);
            for (const ch of chunk.choices) if (ch.finish_reason) finish = ch.finish_reason;
            // Usage-only chunks go to clients that asked for them; we always read usage for the ledger.
            if (chunk.choices.length > 0 || wantsUsage) yield { type: "chunk", chunk };
          }
          next = await it.next();
          batch = next.done ? [] : [next.value];
        }
        // The SDKs end a stream quietly when its signal aborts: a deadline mid-stream is still a failure.
        if (abort.cause() !== null) return fail(null, streamUsage(stream.usage(), run.promptTokens, seen), true);
        completed = true;
      } catch (e) {
        return fail(e, streamUsage(stream.usage(), run.promptTokens, seen), true);
      } finally {
        if (!completed) {
          // The consumer stopped reading (or the stream failed): stop the provider call too.
          abort.abort();
          lease.release();
          it.return?.().catch(() => undefined);
        }
      }
      lease.release();
      const usage = streamUsage(stream.usage(), run.promptTokens, seen);
      this.record(run, dep, "ok", t0, null, usage);
      yield { type: "summary", summary: this.summary(run, dep, usage, finish) };
      return { kind: "done" };
    } finally {
      slot?.release();
      abort.dispose();
    }
  }

  private adapterFor(dep: Deployment): ProviderAdapter | null {
    if (dep.apiKey === null) return null;
    let a = this.adapters.get(dep.providerId);
    if (!a) {
      a = ADAPTERS[dep.providerType]({
        providerId: dep.providerId,
        baseURL: dep.baseURL,
        apiKey: dep.apiKey,
        // The engine's own timer normally fires first; the SDK's is a backstop.
        timeoutMs: this.exec.attempt_timeout_ms + 1_000,
        ...(this.o.fetch ? { fetch: this.o.fetch } : {}),
      });
      this.adapters.set(dep.providerId, a);
    }
    return a;
  }

  private callError(e: unknown, abort: AttemptAbort, dep: Deployment): GatewayError {
    if (abort.cause() !== null) return this.abortError(abort, dep);
    if (isGatewayError(e)) return e;
    this.o.logger?.error({ err: e, model: dep.model }, "unexpected provider call failure");
    return errors.badGateway(`Provider '${dep.providerId}' call failed unexpectedly.`);
  }

  private abortError(abort: AttemptAbort, dep: Deployment): GatewayError {
    switch (abort.cause()) {
      case "attempt_timeout":
        return errors.timeout(`Provider '${dep.providerId}' did not answer for model '${dep.model}' within ${this.exec.attempt_timeout_ms} ms.`);
      case "deadline":
        return errors.timeout("The request deadline passed before the provider answered.");
      default:
        return clientGone();
    }
  }

  private estimateCompletion(run: RunState, text: string): Usage {
    return { ...ZERO_USAGE, inputTokens: run.promptTokens(), outputTokens: countTokens(text), estimated: true };
  }

  private skip(run: RunState, model: string, provider: string, status: AttemptStatus, code: string): void {
    run.attempts.push({ model, provider, status, httpStatus: 0, errorCode: code, latencyMs: 0, usage: null });
    this.metrics.attempt(model, provider, status, 0);
  }

  private record(run: RunState, dep: Deployment, status: "ok" | "error", t0: number, error: GatewayError | null, usage: Usage | null): void {
    const latencyMs = Math.max(0, this.now() - t0);
    run.attempts.push({
      model: dep.model,
      provider: dep.providerId,
      status,
      httpStatus: error ? error.status : 200,
      errorCode: error?.code ?? "",
      latencyMs,
      usage,
    });
    this.metrics.attempt(dep.model, dep.providerId, status, latencyMs);
    if (usage) this.metrics.usage(dep.model, usage, dep.providerId);
    // Tracing off (the usual case): not even the facts object.
    if (tracingOn()) recordAttemptSpan({ model: dep.model, provider: dep.providerId, startedAt: t0, latencyMs, usage, ...(error ? { error: { status: error.status, code: error.code ?? "" } } : {}) });
    if (error) this.o.logger?.warn({ requestId: run.req.requestId, model: dep.model, status: error.status, code: error.code }, "provider attempt failed");
  }

  private summary(run: RunState, dep: Deployment, usage: Usage, finishReason: string) {
    return {
      model: dep.model,
      provider: dep.providerId,
      usage,
      finishReason,
      attempts: run.attempts,
      latencyMs: Math.max(0, this.now() - run.startedAt),
    };
  }
}

/** A chunk that only opens the message (role, empty content): nothing a client would miss yet. */
function isPreamble(chunk: ChatChunk): boolean {
  return (
    chunk.choices.length > 0 &&
    chunk.choices.every((c) => !c.finish_reason && !c.delta.content && !c.delta.refusal && (c.delta.tool_calls?.length ?? 0) === 0)
  );
}

function clientGone(): GatewayError {
  // Never reaches a client (it left); 499 is the conventional "client closed request" status in logs.
  return new GatewayError({ status: 499, type: "invalid_request_error", code: "client_closed_request", message: "The client closed the request." });
}
