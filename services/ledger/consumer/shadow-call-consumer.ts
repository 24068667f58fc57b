// Consumes ShadowEvaluated and records its provider call (two for a cache audit with a baseline). The request row usually exists already
// (the edge publishes RequestCompleted before it asks for a shadow test); if not, nak and retry.
import { fromBinary } from "@bufbuild/protobuf";
import type { BusMessage, BusSubscription, EventBus } from "#libs/bus/event-bus.ts";
import { subjects } from "#libs/bus/subjects.ts";
import { ShadowEvaluatedSchema } from "#libs/gen/llmgw/events/v1/events_pb.ts";
import { recordUnpriced } from "#libs/pricing/index.ts";
import type { ShadowCallWriter } from "../storage/shadow-call-writer.ts";
import type { ConsumerLogger } from "./ledger-consumer.ts";
import { withConsumerSpan } from "#libs/tracing/consumer-spans.ts";
import type { Registry } from "prom-client";

export const SHADOW_DURABLE = "ledger-shadow";
const MAX_WAIT_FOR_REQUEST = 30;

export class ShadowCallConsumer {
  private sub: BusSubscription | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly writer: ShadowCallWriter,
    private readonly logger?: ConsumerLogger,
    private readonly registry?: Registry,
  ) {}

  async start(): Promise<void> {
    this.sub = await this.bus.subscribe({ durable: SHADOW_DURABLE, filterSubject: subjects(this.bus.names).shadowEvaluated, maxBatch: 50 }, async (msgs) => {
      for (const m of msgs) await withConsumerSpan("ledger record ShadowEvaluated", m, () => this.handle(m));
    });
  }

  async stop(): Promise<void> {
    await this.sub?.stop();
    this.sub = undefined;
  }

  async handle(m: BusMessage): Promise<void> {
    let requestId = "";
    try {
      const ev = fromBinary(ShadowEvaluatedSchema, m.data);
      requestId = ev.context?.requestId ?? "";
      if (!ev.call || !requestId) {
        m.ack();
        return;
      }
      // A cache audit's baseline replay is a second shadow call of the same request (its own call id).
      for (const call of ev.baselineCall ? [ev.call, ev.baselineCall] : [ev.call]) {
        const { result, unpriced } = await this.writer.write(requestId, call);
        if (result === "missing_request") {
          if (m.deliveryCount >= MAX_WAIT_FOR_REQUEST) {
            this.logger?.error({ request_id: requestId }, "shadow call for an unknown request: terminated");
            m.term();
          } else m.nak(1_000);
          return;
        }
        if (result === "inserted" && unpriced) recordUnpriced(call.model, this.logger, this.registry, { request_id: requestId });
      }
      m.ack();
    } catch (err) {
      if (!requestId) {
        this.logger?.error({ err: String(err) }, "undecodable ShadowEvaluated: terminated");
        m.term();
        return;
      }
      this.logger?.error({ err: String(err), request_id: requestId }, "shadow call write failed: will retry");
      m.nak(2_000);
    }
  }
}
