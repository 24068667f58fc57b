// Shadow tests: replay a sampled request on the cheaper candidate through the executor, score it
// against the served answer with every scorer (domain/shadow-verdict.ts), store the verdict in
// PostgreSQL, then publish ShadowEvaluated and ack. The day's shadow spend is capped: the replay's
// worst case is reserved first (atomically, across replicas) and turned into spend when recorded.
// A failed replay is retried later (nak with delay, reservation given back); an unreadable message
// is terminated and counted; a test already recorded is only re-announced.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import type OpenAI from "openai";
import { Counter, type Registry } from "prom-client";
import type { BusMessage, BusSubscription, EventBus } from "#libs/bus/event-bus.ts";
import { subjects } from "#libs/bus/subjects.ts";
import type { Config } from "#libs/config/schema.ts";
import { ShadowEvaluatedSchema, ShadowTestRequestedSchema, type ShadowTestRequested } from "#libs/gen/llmgw/events/v1/events_pb.ts";
import type { ExecutorService } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import type { Logger } from "#libs/log/logger.ts";
import { addUsd, worstCaseCost, type PriceTable } from "#libs/pricing/index.ts";
import { tierName } from "#libs/rpc/tier.ts";
import { countTokens } from "#libs/tokens/count.ts";
import { answerView } from "./answer-view.ts";
import { baselineRequest, replay, shadowCall } from "./replay.ts";
import { shadowInput } from "./domain/shadow-input.ts";
import { judgeShadow } from "./domain/shadow-verdict.ts";
import type { ShadowResultStore } from "./storage/shadow-results.ts";
import { shadowMetrics, type ShadowMetrics } from "./shadow-metrics.ts";
import { withConsumerSpan } from "#libs/tracing/consumer-spans.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const requestOf = (json: Uint8Array): OpenAI.Chat.ChatCompletionCreateParams => JSON.parse(decoder.decode(json)) as OpenAI.Chat.ChatCompletionCreateParams;

export interface ShadowConsumerDeps {
  bus: EventBus;
  executor: Client<typeof ExecutorService>;
  store: ShadowResultStore;
  config: Config;
  prices: PriceTable;
  logger: Logger;
  registry: Registry;
  now?: () => Date;
}

export class ShadowConsumer {
  private sub: BusSubscription | undefined;
  private readonly s: ReturnType<typeof subjects>;
  private readonly outcomes: Counter<"outcome">;
  private readonly metrics: ShadowMetrics;

  constructor(private readonly d: ShadowConsumerDeps) {
    this.s = subjects(d.bus.names);
    this.outcomes = new Counter({ name: "llmgw_shadow_tests_total", help: "Shadow tests by outcome (pass, fail, capped, poison, retried, duplicate)", labelNames: ["outcome"], registers: [d.registry] });
    this.metrics = shadowMetrics(d.registry, { store: d.store, capUsd: d.config.routing.shadow.daily_cap_usd, ...(d.now ? { now: d.now } : {}) });
  }

  async start(): Promise<void> {
    // At most maxBatch replays in flight per replica.
    this.sub = await this.d.bus.subscribe({ durable: "evaluator-shadow", filterSubject: this.s.shadowRequested, maxBatch: 8, ackWaitMs: 120_000 }, async (msgs) => {
      await Promise.all(msgs.map((m) => withConsumerSpan("evaluator ShadowTestRequested", m, () => this.handle(m))));
    });
  }

  async stop(): Promise<void> {
    await this.sub?.stop();
  }

  /** Exposed for tests. */
  async handle(m: BusMessage): Promise<void> {
    let ev: ShadowTestRequested;
    let request: OpenAI.Chat.ChatCompletionCreateParams;
    try {
      ev = fromBinary(ShadowTestRequestedSchema, m.data);
      request = requestOf(ev.requestJson);
    } catch {
      // Neither decodes nor replays, ever: poison, not a retry.
      this.outcomes.inc({ outcome: "poison" });
      this.d.logger.warn({ subject: m.subject }, "unreadable shadow test request; terminated");
      m.term();
      return;
    }
    const requestId = ev.context?.requestId ?? "";
    const store = this.d.store;
    let day = "";
    let reserved: string | undefined;
    try {
      if (await store.has(requestId, ev.candidateModel)) {
        this.outcomes.inc({ outcome: "duplicate" });
        m.ack();
        return;
      }
      day = (this.d.now?.() ?? new Date()).toISOString().slice(0, 10);
      // A cache audit with the cached question also replays that question: its baseline.
      const baseline = ev.cacheAudit && ev.cacheQuestion ? baselineRequest(request, ev.cacheQuestion) : undefined;
      const worstMain = this.worstCaseUsd(ev.candidateModel, request);
      const worst = baseline ? addUsd(worstMain, this.worstCaseUsd(ev.candidateModel, baseline)) : worstMain;
      if (!(await store.reserve(day, worst, String(this.d.config.routing.shadow.daily_cap_usd)))) {
        this.outcomes.inc({ outcome: "capped" });
        this.d.logger.info({ requestId, candidate: ev.candidateModel, worstUsd: worst }, "shadow test skipped: daily shadow spend cap reached");
        m.ack();
        return;
      }
      reserved = worst;

      // The two replays of an audit are independent: side by side.
      const [main, base] = await Promise.all([
        replay(this.d.executor, this.d.prices, ev.context, ev.candidateModel, ev.requestJson),
        baseline ? replay(this.d.executor, this.d.prices, ev.context, ev.candidateModel, encoder.encode(JSON.stringify(baseline))) : undefined,
      ]);
      const candidate = main.answer ? answerView(main.answer) : undefined;
      const served = answerView(ev.servedCompletionJson);
      // Upward (a canary's check) and a cache audit: the replay is the reference the served answer is
      // judged by (for an audit, a fresh answer to this question against the one cached for another).
      const replayIsReference = ev.upward || ev.cacheAudit;
      const verdict =
        candidate && served
          ? await judgeShadow(
              replayIsReference
                ? { request, served: candidate, candidate: served, category: ev.category, servedModel: ev.candidateModel, candidateModel: ev.servedModel }
                : { request, served, candidate, category: ev.category, servedModel: ev.servedModel, candidateModel: ev.candidateModel },
            )
          : { ok: false, score: 0, failures: [candidate ? "served_answer_unreadable" : `candidate_error:${main.failure}`], report: undefined };
      // The baseline: the cached answer against a fresh answer to its own question. Without an answer
      // (the replay failed) there is no baseline, rather than a made-up verdict.
      const baseAnswer = base?.answer ? answerView(base.answer) : undefined;
      const baselineOk =
        baseline && baseAnswer && served
          ? (await judgeShadow({ request: baseline, served: baseAnswer, candidate: served, category: ev.category, servedModel: ev.candidateModel, candidateModel: ev.servedModel })).ok
          : undefined;
      // What the test cost: both replays of an audit with a baseline.
      const costUsd = base?.costUsd && main.costUsd ? addUsd(main.costUsd, base.costUsd) : main.costUsd;
      await store.record(
        {
          requestId,
          candidateModel: ev.candidateModel,
          tenantId: ev.context?.tenantId ?? "",
          category: ev.category,
          tier: tierName(ev.tier),
          servedModel: ev.servedModel,
          ok: verdict.ok,
          score: verdict.score,
          failures: verdict.failures,
          verdicts: verdict.report?.results ?? [],
          candidateCostUsd: costUsd,
          direction: ev.cacheAudit ? "cache" : ev.upward ? "up" : "down",
          policyVersion: Number(ev.policyVersion),
          policyCanary: ev.policyCanary,
          // An audit's prompt trains nothing (train:router reads downgrade evidence only): not kept.
          ...(this.d.config.routing.shadow.store_inputs && !ev.cacheAudit ? { input: shadowInput(request) } : {}),
          ...(ev.cacheAudit ? { cacheSimilarity: ev.cacheSimilarity } : {}),
          ...(ev.cacheAudit && ev.cacheEntry ? { cacheEntry: ev.cacheEntry } : {}),
          ...(baselineOk !== undefined ? { cacheBaselineOk: baselineOk } : {}),
        },
        { day, reservedUsd: worst },
      );
      reserved = undefined;
      const baseCall = base ? shadowCall(base, `${requestId}:shadow-baseline`) : undefined;
      const out = create(ShadowEvaluatedSchema, {
        context: ev.context,
        servedModel: ev.servedModel,
        candidateModel: ev.candidateModel,
        category: ev.category,
        tier: ev.tier,
        ok: verdict.ok,
        score: verdict.score,
        failures: verdict.failures,
        candidateCostUsd: costUsd ?? "",
        call: shadowCall(main, `${requestId}:shadow`),
        cacheAudit: ev.cacheAudit,
        cacheSimilarity: ev.cacheSimilarity,
        cacheBaseline: baselineOk !== undefined,
        cacheBaselineOk: baselineOk ?? false,
        ...(baseCall ? { baselineCall: baseCall } : {}),
      });
      await this.d.bus.publish(this.s.shadowEvaluated, toBinary(ShadowEvaluatedSchema, out), `shadow-evaluated:${requestId}`);
      this.outcomes.inc({ outcome: verdict.ok ? "pass" : "fail" });
      if (ev.cacheAudit) this.metrics.cacheAudit(ev.category, verdict.ok);
      else this.metrics.score(ev.category, verdict.ok, verdict.score);
      this.d.logger.info({ requestId, candidate: ev.candidateModel, ok: verdict.ok, score: verdict.score, ...(ev.cacheAudit ? { cacheAudit: true } : {}) }, "shadow test evaluated");
      m.ack();
    } catch (e) {
      if (reserved !== undefined) await store.release(day, reserved).catch(() => undefined);
      this.outcomes.inc({ outcome: "retried" });
      this.d.logger.warn({ err: e instanceof Error ? e.message : String(e), requestId }, "shadow test failed; will retry");
      m.nak(Math.min(60_000, 1_000 * 2 ** m.deliveryCount));
    }
  }

  /** The replay's worst case: the prompt plus the most it may answer, at the candidate's price. */
  private worstCaseUsd(model: string, request: OpenAI.Chat.ChatCompletionCreateParams): string {
    const text = request.messages.map((msg) => (typeof msg.content === "string" ? msg.content : JSON.stringify(msg.content ?? ""))).join("\n");
    const maxOut = request.max_completion_tokens ?? request.max_tokens ?? this.d.config.models[model]?.max_output_tokens ?? 4096;
    const c = worstCaseCost(this.d.prices, model, countTokens(text) + 8 * request.messages.length, maxOut, new Date());
    return c.unpriced ? "0" : c.costUsd;
  }
}
