import type { BusNames } from "./subjects.ts";

/** One delivered message. Settle it exactly once with ack, nak or term. */
export interface BusMessage {
  subject: string;
  data: Uint8Array;
  /** 1 on first delivery. */
  deliveryCount: number;
  /** W3C trace context the publisher attached (traceparent, tracestate), when tracing is on. */
  headers?: Readonly<Record<string, string>>;
  ack(): void;
  /** Redeliver later (after delayMs when given). */
  nak(delayMs?: number): void;
  /** Never redeliver (poison message). */
  term(): void;
}

export interface SubscribeOptions {
  /** Durable consumer name: survives restarts, shared by replicas (each message to one of them). */
  durable: string;
  filterSubject: string;
  /** Deliver up to this many messages per handler call... */
  maxBatch?: number;
  /** ...or whatever arrived within this many ms of the first one. */
  maxWaitMs?: number;
  /** Unacknowledged messages in flight before the server stops delivering. */
  maxAckPending?: number;
  /** A message not settled within this time is redelivered (crashed consumer). */
  ackWaitMs?: number;
}

export type BatchHandler = (msgs: BusMessage[]) => Promise<void>;

export interface BusSubscription {
  /** Stops pulling, lets the batch in progress finish. */
  stop(): Promise<void>;
}

export type BroadcastHandler = (data: Uint8Array) => void;

/** Announcements every process sharing the bus hears at once, stored nowhere (libs/bus/broadcast.ts). */
export interface Broadcast {
  announce(subject: string, data: Uint8Array): Promise<void>;
  /** Returns the function that stops listening. */
  listen(subject: string, handler: BroadcastHandler): () => void;
}

/**
 * Event bus the gateway's services publish to and consume from: NATS JetStream in the mesh,
 * an in-process implementation in embedded mode. At-least-once; msgId deduplicates publishes.
 */
export interface EventBus {
  /** Stream and subject prefix this bus publishes under; consumers derive their subjects from it. */
  readonly names: BusNames;
  /**
   * This bus's broadcast: core NATS publish/subscribe, or an in-process fan-out. Each bus makes its
   * own, so that embedded mode never loads the NATS client.
   */
  broadcast(): Broadcast;
  /** `headers`: trace context to carry (else the active span's, when tracing is on). */
  publish(subject: string, data: Uint8Array, msgId: string, headers?: Readonly<Record<string, string>>): Promise<void>;
  subscribe(opts: SubscribeOptions, handler: BatchHandler): Promise<BusSubscription>;
  close(): Promise<void>;
}

export const DEFAULT_MAX_BATCH = 500;
export const DEFAULT_MAX_WAIT_MS = 50;
