import { DEFAULT_MAX_BATCH, DEFAULT_MAX_WAIT_MS, type BatchHandler, type Broadcast, type BroadcastHandler, type BusMessage, type BusSubscription, type EventBus, type SubscribeOptions } from "./event-bus.ts";
import { DEFAULT_BUS_NAMES, subjectMatches, type BusNames } from "./subjects.ts";
import { LruMap } from "#libs/collections/lru-map.ts";
import { traceHeaders } from "#libs/tracing/tracing.ts";

interface Stored {
  subject: string;
  data: Uint8Array;
  deliveries: number;
  headers?: Readonly<Record<string, string>>;
}

interface Durable {
  filter: string;
  queue: Stored[];
  wake: (() => void) | undefined;
  running: boolean;
  /** A batch is with the handler, not yet settled. */
  busy: boolean;
}

export interface MemoryBusOptions {
  names?: BusNames;
  duplicateWindowMs?: number;
  /** Messages kept for durables created later (JetStream's "deliver all" on a bounded stream). */
  retain?: number;
  /** Most message ids remembered for dedup; past it the oldest are forgotten before their window ends. */
  maxSeen?: number;
}

/**
 * In-process EventBus for embedded mode, with JetStream's semantics where they matter:
 * durable consumers keep their queue while stopped, msgId dedup within a window, ack/nak/term,
 * and a message the handler left unsettled is redelivered (as after ack_wait).
 */
export class MemoryEventBus implements EventBus {
  private readonly durables = new Map<string, Durable>();
  // msgId -> publish time, oldest first (LruMap: bounded by maxSeen, O(1) to the oldest), so expiry
  // only ever looks at the front.
  private readonly seen: LruMap<string, number>;
  // A ring of the last `retain` messages: a durable that subscribes after start-up (embedded services
  // subscribe while the edge may already publish) still gets them. Bounded and O(1) per publish: it
  // used to keep 100,000 messages (~5 KB each) and shift the array once full, which grew memory by
  // hundreds of MB and slowed every publish under sustained load (npm run soak).
  private readonly retained: (Stored | undefined)[];
  private retainedNext = 0;
  private retainedCount = 0;
  private readonly dupWindow: number;
  private readonly retain: number;
  private closed = false;
  /** Broadcast listeners by subject (an in-process fan-out: nothing stored, at most once). */
  private readonly topics = new Map<string, Set<BroadcastHandler>>();

  readonly names: BusNames;

  constructor(opts: MemoryBusOptions = {}) {
    this.names = opts.names ?? DEFAULT_BUS_NAMES;
    this.dupWindow = opts.duplicateWindowMs ?? 120_000;
    this.retain = Math.max(0, opts.retain ?? 1_000);
    this.seen = new LruMap<string, number>({ max: Math.max(1, opts.maxSeen ?? 100_000) });
    this.retained = new Array<Stored | undefined>(this.retain);
  }

  async publish(subject: string, data: Uint8Array, msgId: string, carried?: Readonly<Record<string, string>>): Promise<void> {
    if (this.closed) throw new Error("bus closed");
    const now = Date.now();
    const at = this.seen.peek(msgId);
    if (at !== undefined && now - at < this.dupWindow) return;
    this.remember(msgId, now);
    const headers = carried ?? traceHeaders();
    const stored: Stored = headers ? { subject, data, deliveries: 0, headers } : { subject, data, deliveries: 0 };
    if (this.retain > 0) {
      this.retained[this.retainedNext] = stored;
      this.retainedNext = (this.retainedNext + 1) % this.retain;
      this.retainedCount = Math.min(this.retainedCount + 1, this.retain);
    }
    for (const d of this.durables.values()) {
      if (subjectMatches(d.filter, subject)) this.enqueue(d, { ...stored });
    }
  }

  async subscribe(opts: SubscribeOptions, handler: BatchHandler): Promise<BusSubscription> {
    let d = this.durables.get(opts.durable);
    if (!d) {
      d = { filter: opts.filterSubject, queue: [], wake: undefined, running: false, busy: false };
      for (let i = 0; i < this.retainedCount; i++) {
        const m = this.retained[(this.retainedNext - this.retainedCount + i + this.retain) % this.retain];
        if (m && subjectMatches(d.filter, m.subject)) d.queue.push({ ...m });
      }
      this.durables.set(opts.durable, d);
    }
    if (d.running) throw new Error(`durable ${opts.durable} already has a subscriber in this process`);
    d.running = true;
    const durable = d;
    const loop = this.run(durable, opts.maxBatch ?? DEFAULT_MAX_BATCH, opts.maxWaitMs ?? DEFAULT_MAX_WAIT_MS, handler);
    return {
      stop: async () => {
        durable.running = false;
        durable.wake?.();
        await loop;
      },
    };
  }

  broadcast(): Broadcast {
    const topics = this.topics;
    return {
      async announce(subject, data) {
        for (const h of topics.get(subject) ?? []) {
          try {
            h(data);
          } catch {
            // one listener's failure is not the announcer's
          }
        }
      },
      listen(subject, handler) {
        let set = topics.get(subject);
        if (!set) topics.set(subject, (set = new Set()));
        set.add(handler);
        return () => set.delete(handler);
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const d of this.durables.values()) {
      d.running = false;
      d.wake?.();
    }
  }

  private enqueue(d: Durable, m: Stored): void {
    d.queue.push(m);
    d.wake?.();
  }

  private async run(d: Durable, maxBatch: number, maxWaitMs: number, handler: BatchHandler): Promise<void> {
    while (d.running) {
      if (d.queue.length === 0) {
        await new Promise<void>((resolve) => (d.wake = resolve));
        d.wake = undefined;
        continue;
      }
      // Honour the batch window: the ledger commits one transaction per batch, and in embedded mode that
      // transaction is synchronous WASM on the event loop, so small batches steal time from requests.
      if (d.queue.length < maxBatch) await new Promise((r) => setTimeout(r, maxWaitMs));
      const batch = d.queue.splice(0, maxBatch);
      const settled = new Array<boolean>(batch.length).fill(false);
      const msgs: BusMessage[] = batch.map((m, i) => {
        m.deliveries += 1;
        const settle = (): boolean => (settled[i] ? false : (settled[i] = true));
        return {
          subject: m.subject,
          data: m.data,
          deliveryCount: m.deliveries,
          ...(m.headers ? { headers: m.headers } : {}),
          ack: () => void settle(),
          term: () => void settle(),
          nak: (delayMs) => {
            if (!settle()) return;
            if (delayMs && delayMs > 0) setTimeout(() => this.enqueue(d, m), delayMs).unref();
            else this.enqueue(d, m);
          },
        };
      });
      d.busy = true;
      try {
        await handler(msgs);
      } catch {
        // handled below: whatever the handler left unsettled is redelivered
      } finally {
        d.busy = false;
      }
      batch.forEach((m, i) => {
        if (!settled[i]) this.enqueue(d, m);
      });
    }
  }

  /**
   * Resolves true once every running consumer has settled all it was given so far (false after
   * timeoutMs). A JetStream publish is durable when acked; here a message lives only in this process
   * until consumed, so a caller about to record "billed" (a batch turning final) waits for this first.
   * A message nak'ed with a delay is out of the queue meanwhile and not waited for.
   */
  async flush(timeoutMs = 10_000): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    const pending = () => [...this.durables.values()].some((d) => d.running && (d.queue.length > 0 || d.busy));
    while (pending()) {
      if (Date.now() >= until) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
    return true;
  }

  /** Number of message ids held for dedup (bounded by maxSeen). */
  get seenCount(): number {
    return this.seen.size;
  }

  /**
   * Remembers msgId and forgets the ids past the window, oldest first; LruMap drops those over maxSeen.
   * Both are O(1) amortized: iterating a Map from its start instead skipped every entry deleted since
   * V8 last rehashed it, 9-104 µs per publish once 100,000 ids were held (issue #9).
   */
  private remember(msgId: string, now: number): void {
    this.seen.set(msgId, now);
    for (let o = this.seen.oldest(); o !== undefined && now - o[1] >= this.dupWindow; o = this.seen.oldest()) this.seen.delete(o[0]);
  }
}
