import { headers as natsHeaders, type JetStreamClient, type JetStreamManager, type JsMsg, type MsgHdrs, type NatsConnection } from "nats";
import { traceHeaders } from "#libs/tracing/tracing.ts";
import { Batcher } from "#libs/batch/batcher.ts";
import { DEFAULT_MAX_BATCH, DEFAULT_MAX_WAIT_MS, type BatchHandler, type Broadcast, type BusMessage, type BusSubscription, type EventBus, type SubscribeOptions } from "./event-bus.ts";
import { provisionConsumer, provisionStream, type StreamOptions } from "./provision.ts";
import type { BusNames } from "./subjects.ts";

function traceOf(h: MsgHdrs): Record<string, string> {
  const out: Record<string, string> = { traceparent: h.get("traceparent") };
  if (h.has("tracestate")) out.tracestate = h.get("tracestate");
  return out;
}

function wrap(m: JsMsg): BusMessage {
  return {
    subject: m.subject,
    data: m.data,
    deliveryCount: m.info.redeliveryCount,
    ...(m.headers?.has("traceparent") ? { headers: traceOf(m.headers) } : {}),
    ack: () => m.ack(),
    nak: (delayMs) => m.nak(delayMs),
    term: () => m.term(),
  };
}

/** EventBus on NATS JetStream: durable pull consumers, explicit acks, msgId deduplication. */
export class NatsEventBus implements EventBus {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly names: BusNames,
  ) {}

  /** Wraps a connection (the caller owns it); provisions the stream unless told not to. */
  static async create(nc: NatsConnection, names: BusNames, opts: StreamOptions & { provision?: boolean; publishTimeoutMs?: number } = {}): Promise<NatsEventBus> {
    const jsm = await nc.jetstreamManager();
    if (opts.provision !== false) await provisionStream(jsm, names, opts);
    // The publish waits for the stream's ack at most this long; the caller's outbox keeps a timed-out event.
    return new NatsEventBus(nc, nc.jetstream(opts.publishTimeoutMs !== undefined ? { timeout: opts.publishTimeoutMs } : {}), jsm, names);
  }

  async publish(subject: string, data: Uint8Array, msgId: string, carried?: Readonly<Record<string, string>>): Promise<void> {
    const trace = carried ?? traceHeaders();
    if (!trace) {
      await this.js.publish(subject, data, { msgID: msgId });
      return;
    }
    const h = natsHeaders();
    for (const [k, v] of Object.entries(trace)) h.set(k, v);
    await this.js.publish(subject, data, { msgID: msgId, headers: h });
  }

  async subscribe(opts: SubscribeOptions, handler: BatchHandler): Promise<BusSubscription> {
    const maxBatch = opts.maxBatch ?? DEFAULT_MAX_BATCH;
    await provisionConsumer(this.jsm, this.names, {
      durable: opts.durable,
      filterSubject: opts.filterSubject,
      maxAckPending: opts.maxAckPending ?? maxBatch * 4,
      ...(opts.ackWaitMs !== undefined ? { ackWaitMs: opts.ackWaitMs } : {}),
    });
    const consumer = await this.js.consumers.get(this.names.stream, opts.durable);
    const messages = await consumer.consume({ max_messages: maxBatch * 2 });
    const batcher = new Batcher<BusMessage>(handler, { max: maxBatch, waitMs: opts.maxWaitMs ?? DEFAULT_MAX_WAIT_MS, mode: "serial" });
    const loop = (async () => {
      try {
        for await (const m of messages) await batcher.push(wrap(m));
        await batcher.flush();
      } catch {
        // Connection closed under us: unsettled messages are redelivered after ack_wait.
        batcher.discard();
      }
    })();
    return {
      async stop() {
        await messages.close();
        await loop.catch(() => {});
      },
    };
  }

  /** Core NATS publish/subscribe: every connection's subscriber gets every message; nothing stored, nothing to ack. */
  broadcast(): Broadcast {
    const nc = this.nc;
    return {
      async announce(subject, data) {
        nc.publish(subject, data);
        // Flushed, so the announcement is on the server before the caller answers its client.
        await nc.flush();
      },
      listen(subject, handler) {
        const sub = nc.subscribe(subject, {
          callback: (err, msg) => {
            if (!err) handler(msg.data);
          },
        });
        return () => sub.unsubscribe();
      },
    };
  }

  /** The connection belongs to the caller; nothing to release here. */
  async close(): Promise<void> {}

  get connection(): NatsConnection {
    return this.nc;
  }
}
