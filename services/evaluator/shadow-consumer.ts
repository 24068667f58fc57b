// Shadow tests: replay a sampled request on the cheaper candidate through the executor, score it
// against the served answer with every scorer (domain/shadow-verdict.ts), record the verdict and
// publish ShadowEvaluated. Ack after the verdict is
// published; a failed replay is retried later (nak with delay), an undecodable message is terminated.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import type { BusMessage, BusSubscription, EventBus } from "#libs/bus/event-bus.ts";
import { subjects } from "#libs/bus/subjects.ts";
import { ShadowEvaluatedSchema, ShadowTestRequestedSchema, type ShadowTestRequested } from "#libs/gen/llmgw/events/v1/events_pb.ts";
import type { Attempt, ExecutorService } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { computeCost, fromProtoUsage, type PriceTable } from "#libs/pricing/index.ts";
import type { Logger } from "#libs/log/logger.ts";
import { tierName } from "#libs/rpc/tier.ts";
import type OpenAI from "openai";
import { answerView } from "./answer-view.ts";
import type { DowngradeStats } from "./domain/downgrade.ts";
import { judgeShadow } from "./domain/shadow-verdict.ts";

const decoder = new TextDecoder();
const requestOf = (json: Uint8Array): OpenAI.Chat.ChatCompletionCreateParams => JSON.parse(decoder.decode(json)) as OpenAI.Chat.ChatCompletionCreateParams;

export class ShadowConsumer {
  private sub: BusSubscription | undefined;
  private readonly s: ReturnType<typeof subjects>;

  constructor(
    private readonly bus: EventBus,
    private readonly executor: Client<typeof ExecutorService>,
    private readonly stats: DowngradeStats,
    private readonly logger: Logger,
    private readonly prices: PriceTable,
  ) {
    this.s = subjects(bus.names);
  }

  async start(): Promise<void> {
    this.sub = await this.bus.subscribe({ durable: "evaluator-shadow", filterSubject: this.s.shadowRequested, maxBatch: 8, ackWaitMs: 120_000 }, async (msgs) => {
      await Promise.all(msgs.map((m) => this.handle(m)));
    });
  }

  async stop(): Promise<void> {
    await this.sub?.stop();
  }

  private async handle(m: BusMessage): Promise<void> {
    let ev: ShadowTestRequested;
    try {
      ev = fromBinary(ShadowTestRequestedSchema, m.data);
    } catch {
      m.term();
      return;
    }
    let request: OpenAI.Chat.ChatCompletionCreateParams;
    try {
      request = requestOf(ev.requestJson);
    } catch {
      // A request that cannot be read will never replay: poison, not a retry.
      this.logger.warn({ requestId: ev.context?.requestId }, "shadow test request unreadable; terminated");
      m.term();
      return;
    }
    try {
      let answer: Uint8Array | undefined;
      let failure = "";
      let attempts: Attempt[] = [];
      const startedAt = new Date().toISOString();
      for await (const r of this.executor.execute({ context: ev.context, candidates: [{ model: ev.candidateModel }], requestJson: ev.requestJson, stream: false, purpose: "shadow" })) {
        if (r.event.case === "completionJson") answer = r.event.value;
        if (r.event.case === "summary") attempts = r.event.value.attempts;
        if (r.event.case === "failure") {
          failure = r.event.value.code || "failed";
          attempts = r.event.value.attempts;
        }
      }
      // The last attempt that reached the provider is the shadow call the ledger records.
      const sent = attempts.filter((a) => !a.status.startsWith("skipped")).at(-1);
      const requestId = ev.context?.requestId ?? "";
      const priced = sent?.usage ? computeCost(this.prices, fromProtoUsage(sent.usage), sent.model, new Date()) : undefined;
      const candidate = answer ? answerView(answer) : undefined;
      const served = answerView(ev.servedCompletionJson);
      const verdict =
        candidate && served
          ? await judgeShadow({ request, served, candidate, category: ev.category, servedModel: ev.servedModel, candidateModel: ev.candidateModel })
          : { ok: false, score: 0, failures: [candidate ? "served_answer_unreadable" : `candidate_error:${failure}`] };
      this.stats.record({ tenant: ev.context?.tenantId ?? "", category: ev.category, tier: tierName(ev.tier), from: ev.servedModel, to: ev.candidateModel }, verdict.ok);
      const out = create(ShadowEvaluatedSchema, {
        context: ev.context,
        servedModel: ev.servedModel,
        candidateModel: ev.candidateModel,
        category: ev.category,
        tier: ev.tier,
        ok: verdict.ok,
        score: verdict.score,
        failures: verdict.failures,
        candidateCostUsd: priced && !priced.unpriced ? priced.costUsd : "",
        call: sent
          ? { callId: `${requestId}:shadow`, kind: "shadow", model: sent.model, provider: sent.provider, status: sent.status === "ok" ? "ok" : "error", errorCode: sent.errorCode, latencyMs: sent.latencyMs, usage: sent.usage, startedAt }
          : undefined,
      });
      await this.bus.publish(this.s.shadowEvaluated, toBinary(ShadowEvaluatedSchema, out), `shadow-evaluated:${ev.context?.requestId ?? ""}`);
      this.logger.info({ requestId, candidate: ev.candidateModel, ok: verdict.ok, score: verdict.score }, "shadow test evaluated");
      m.ack();
    } catch (e) {
      this.logger.warn({ err: e instanceof Error ? e.message : String(e), requestId: ev.context?.requestId }, "shadow test failed; will retry");
      m.nak(Math.min(60_000, 1_000 * 2 ** m.deliveryCount));
    }
  }
}
