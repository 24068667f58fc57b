import { randomUUID } from "node:crypto";
import { DeliverPolicy, type JetStreamClient, type NatsConnection } from "nats";
import { cacheIndexNames, provisionCacheIndexStream } from "#libs/bus/provision.ts";
import type { BusNames } from "#libs/bus/subjects.ts";
import type { IndexEventHandler, IndexFeed } from "./index-feed.ts";
import { decodeEvent, encodeEvent, type IndexEvent, type TextSeal } from "./semantic-entry.ts";

/**
 * The index feed on JetStream: events go to the cache-index stream (provisioned in libs/bus/provision.ts
 * with the others); each replica follows it with its own ordered (ephemeral) consumer from the
 * stream's end at the moment it starts following, so every replica sees every event, in stream order,
 * and the ordered consumer resumes where it was after a broker reconnect.
 */
export class NatsIndexFeed implements IndexFeed {
  private readonly names: ReturnType<typeof cacheIndexNames>;
  private ready: Promise<{ nc: NatsConnection; js: JetStreamClient }> | undefined;

  constructor(
    private readonly connection: () => Promise<NatsConnection>,
    private readonly busNames: BusNames,
    private readonly o: { seal?: TextSeal; publishTimeoutMs?: number; onError?: (err: unknown) => void } = {},
  ) {
    this.names = cacheIndexNames(busNames);
  }

  private open(): Promise<{ nc: NatsConnection; js: JetStreamClient }> {
    this.ready ??= (async () => {
      const nc = await this.connection();
      await provisionCacheIndexStream(await nc.jetstreamManager(), this.busNames);
      return { nc, js: nc.jetstream({ timeout: this.o.publishTimeoutMs ?? 2_000 }) };
    })();
    // A failed open (broker away at start) is retried by the next call.
    this.ready.catch(() => (this.ready = undefined));
    return this.ready;
  }

  async publish(ev: IndexEvent): Promise<void> {
    const { js } = await this.open();
    await js.publish(this.names.subject(ev.kind), encodeEvent(ev, this.o.seal), { msgID: randomUUID() });
  }

  async follow(handler: IndexEventHandler): Promise<() => Promise<void>> {
    const { nc, js } = await this.open();
    const info = await (await nc.jetstreamManager()).streams.info(this.names.stream);
    const consumer = await js.consumers.get(this.names.stream, {
      filterSubjects: this.names.all,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: info.state.last_seq + 1,
    });
    const messages = await consumer.consume({ max_messages: 1_000 });
    const loop = (async () => {
      for await (const m of messages) {
        const ev = decodeEvent(m.data, this.o.seal);
        if (!ev) continue;
        try {
          handler(ev);
        } catch (err) {
          this.o.onError?.(err);
        }
      }
    })().catch((err: unknown) => this.o.onError?.(err));
    return async () => {
      await messages.close();
      await loop;
    };
  }
}
