// Events leave the hot path: publish after the answer, and if the broker is down keep them and retry,
// so a NATS outage degrades accounting latency instead of losing records. JetStream deduplicates
// retried publishes by message id. The queue is bounded (memory); overflow is counted, never silent.
//
// Publishes are held for a few milliseconds (`burstMs`) and sent together: the NATS client writes a
// burst in one socket write, the broker reads it at once and its acks come back together. One
// publish per request, each its own write, cost NATS more than twice as much CPU per request.
// 20 ms, not 5: at low load (one request in flight, ~300 req/s in the mesh) 5 ms grouped one or two
// events, and on a virtualised host each socket write that wakes an idle peer costs the writer tens
// of µs; under load a burst fills to maxBurst long before the window ends.
import { Counter, Gauge, type Registry } from "prom-client";
import { Batcher } from "#libs/batch/batcher.ts";
import type { Logger } from "#libs/log/logger.ts";
import { traceHeaders } from "#libs/tracing/tracing.ts";
import type { EventPublisher } from "./deps.ts";

interface Pending {
  subject: string;
  data: Uint8Array;
  msgId: string;
  /** The publishing request's trace context, kept for a retry that runs outside it. */
  headers?: Readonly<Record<string, string>>;
}

export interface OutboxOptions {
  /** Bound of the retry queue. */
  maxQueued: number;
  retryMs: number;
  /** How long a publish waits for others to go with it (0: sent at once). */
  burstMs: number;
  /** A burst this large goes at once. */
  maxBurst: number;
}

const DEFAULTS: OutboxOptions = { maxQueued: 100_000, retryMs: 1_000, burstMs: 20, maxBurst: 256 };

export class EventOutbox {
  private readonly queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly burst: Batcher<Pending>;
  private readonly opts: OutboxOptions;
  private inFlight = 0;
  private readonly failed: Counter<"subject">;
  private readonly dropped: Counter<"subject">;

  constructor(
    private readonly bus: EventPublisher,
    private readonly logger: Logger,
    registry: Registry,
    opts: Partial<OutboxOptions> = {},
  ) {
    this.opts = { ...DEFAULTS, ...opts };
    this.burst = new Batcher(async (burst) => burst.forEach((p) => this.send(p)), { max: this.opts.maxBurst, waitMs: this.opts.burstMs, mode: "independent" });
    this.failed = new Counter({ name: "llmgw_events_publish_failures_total", help: "Event publishes that failed and were queued for retry", labelNames: ["subject"], registers: [registry] });
    this.dropped = new Counter({ name: "llmgw_events_dropped_total", help: "Events dropped because the retry queue was full", labelNames: ["subject"], registers: [registry] });
    const pending = () => this.pending();
    new Gauge({
      name: "llmgw_events_pending",
      help: "Events waiting for the broker",
      registers: [registry],
      collect() {
        this.set(pending());
      },
    });
  }

  publish(subject: string, data: Uint8Array, msgId: string): void {
    const headers = traceHeaders();
    const p: Pending = headers ? { subject, data, msgId, headers } : { subject, data, msgId };
    void this.burst.push(p);
  }

  pending(): number {
    return this.burst.size + this.queue.length + this.inFlight;
  }

  private send(p: Pending): void {
    this.inFlight++;
    this.bus.publish(p.subject, p.data, p.msgId, p.headers).then(
      () => this.inFlight--,
      (e: unknown) => {
        this.inFlight--;
        this.failed.inc({ subject: p.subject });
        this.enqueue(p, e);
      },
    );
  }

  /** Waits until everything queued has been published or the timeout passes (shutdown). */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    void this.burst.flush();
    while (this.pending() > 0 && Date.now() < deadline) {
      if (this.queue.length > 0) await this.retry();
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.pending() === 0;
  }

  /** Stops the timers; call flush() first, or what still waits (burst or retry queue) is not sent. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.burst.discard();
  }

  private enqueue(p: Pending, e: unknown): void {
    if (this.queue.length >= this.opts.maxQueued) {
      this.dropped.inc({ subject: p.subject });
      this.logger.error({ subject: p.subject, msgId: p.msgId }, "event retry queue full: event dropped");
      return;
    }
    if (this.queue.length === 0) this.logger.warn({ err: e instanceof Error ? e.message : String(e) }, "event publish failed; will retry");
    this.queue.push(p);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.retry();
    }, this.opts.retryMs);
  }

  private async retry(): Promise<void> {
    const batch = this.queue.splice(0, this.queue.length);
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i] as Pending;
      try {
        await this.bus.publish(p.subject, p.data, p.msgId, p.headers);
      } catch (e) {
        // Broker still down: requeue the rest in order and wait for the next tick.
        for (const rest of batch.slice(i)) this.enqueue(rest, e);
        return;
      }
    }
  }
}
