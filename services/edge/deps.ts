// What the edge needs from the world. main.ts (mesh) and the embedded composition build it; tests
// build it around real services. Nothing here knows which mode it runs in.
import type { Registry } from "prom-client";
import type { Config } from "#libs/config/schema.ts";
import type { Usage } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import type { ServiceClients } from "#libs/rpc/service-clients.ts";
import type { Logger } from "#libs/log/logger.ts";
import type { BusNames } from "#libs/bus/subjects.ts";

/** The edge calls every service. */
export type EdgeClients = ServiceClients;

/** Publishes an event; msgId is the idempotency key (JetStream deduplicates on it). */
export interface EventPublisher {
  readonly names: BusNames;
  publish(subject: string, data: Uint8Array, msgId: string, headers?: Readonly<Record<string, string>>): Promise<void>;
  /** In-process bus only: waits until its consumers have taken what was published (see MemoryEventBus). */
  flush?(timeoutMs?: number): Promise<boolean>;
}

/** Prices for response headers and budget reservations; the ledger remains the source of truth. */
export interface Pricing {
  /** batch: at the model's batch price (its batch discount off). */
  cost(model: string, usage: Usage, at: Date, opts?: { batch?: boolean }): { usd: string; unpriced: boolean };
  /** Worst case of input + max output tokens over the given models, in USD. */
  worstCaseUsd(models: readonly string[], inputTokens: number, maxOutputTokens: number, at: Date): string;
  /** The price table's canonical id of a model or a dated snapshot of it (unknown ids unchanged). */
  canonical?(model: string): string;
}

export interface EdgeDeps {
  config: Config;
  clients: EdgeClients;
  events: EventPublisher;
  pricing: Pricing;
  logger: Logger;
  registry: Registry;
  /** Opens the edge's /metrics besides an admin key (LLMGW_METRICS_TOKEN); unset = admin key only. */
  metricsToken?: string;
  /** The edge's own readiness: its RPC peers and the bus. */
  ready: () => Promise<boolean>;
  random?: () => number;
}
