import {
  AckPolicy,
  DeliverPolicy,
  nanos,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
  type StreamConfig,
  DiscardPolicy,
} from "nats";
import { subjects, type BusNames } from "./subjects.ts";

/** The ONE place where the events stream and durable consumers are declared (idempotent). */
export interface StreamOptions {
  /** JetStream deduplicates publishes with the same msgId within this window. */
  duplicateWindowMs?: number;
  maxAgeMs?: number;
  storage?: "file" | "memory";
}

export async function provisionStream(jsm: JetStreamManager, names: BusNames, opts: StreamOptions = {}): Promise<void> {
  const cfg: Partial<StreamConfig> = {
    name: names.stream,
    subjects: [subjects(names).all],
    storage: opts.storage === "memory" ? StorageType.Memory : StorageType.File,
    duplicate_window: nanos(opts.duplicateWindowMs ?? 120_000),
    max_age: nanos(opts.maxAgeMs ?? 7 * 86_400_000),
  };
  try {
    await jsm.streams.info(names.stream);
    // Storage type cannot change on an existing stream; keep whatever it was created with.
    const { storage: _storage, ...mutable } = cfg;
    await jsm.streams.update(names.stream, mutable);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await jsm.streams.add(cfg);
  }
}

/**
 * The cache replicas' index feed: stores and invalidations of semantic entries, which every replica
 * applies to its own index. Its own stream, outside the events stream's `<prefix>.>` subjects: it
 * is read by ephemeral per-replica consumers, not the durables, and needs only a short history
 * (a replica that starts rebuilds from Redis first and then follows from the stream's end).
 */
export function cacheIndexNames(names: BusNames): { stream: string; subject: (kind: string) => string; all: string } {
  return { stream: `${names.stream}_CACHE_INDEX`, subject: (kind) => `${names.prefix}_cacheidx.${kind}`, all: `${names.prefix}_cacheidx.>` };
}

export async function provisionCacheIndexStream(jsm: JetStreamManager, names: BusNames): Promise<void> {
  const n = cacheIndexNames(names);
  const cfg: Partial<StreamConfig> = {
    name: n.stream,
    subjects: [n.all],
    storage: StorageType.File,
    // Long enough for a replica cut off by a broker blip to catch up; bounded so it cannot grow.
    max_age: nanos(3_600_000),
    max_bytes: 256 * 1024 * 1024,
    discard: DiscardPolicy.Old,
    duplicate_window: nanos(60_000),
  };
  try {
    await jsm.streams.info(n.stream);
    const { storage: _storage, ...mutable } = cfg;
    await jsm.streams.update(n.stream, mutable);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await jsm.streams.add(cfg);
  }
}

export interface ConsumerOptions {
  durable: string;
  filterSubject: string;
  maxAckPending?: number;
  ackWaitMs?: number;
  /** Give up after this many deliveries (then the message stays in the stream for inspection). */
  maxDeliver?: number;
}

export async function provisionConsumer(jsm: JetStreamManager, names: BusNames, opts: ConsumerOptions): Promise<void> {
  const cfg: Partial<ConsumerConfig> = {
    durable_name: opts.durable,
    filter_subject: opts.filterSubject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: opts.maxAckPending ?? 5_000,
    ack_wait: nanos(opts.ackWaitMs ?? 30_000),
    max_deliver: opts.maxDeliver ?? -1,
  };
  try {
    await jsm.consumers.info(names.stream, opts.durable);
    await jsm.consumers.update(names.stream, opts.durable, {
      max_ack_pending: cfg.max_ack_pending,
      ack_wait: cfg.ack_wait,
      max_deliver: cfg.max_deliver,
      filter_subject: cfg.filter_subject,
    });
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await jsm.consumers.add(names.stream, cfg);
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: unknown; api_error?: { err_code?: number } } | null;
  const code = e?.api_error?.err_code;
  return code === 10059 || code === 10014 || String(e?.code) === "404" || /not found/i.test(String(err));
}
