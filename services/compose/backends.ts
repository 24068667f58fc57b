// The one set of backends a composition root hands to services: each run mode implements it with
// its own parts (memory, PGlite and an in-process bus embedded; Redis, PostgreSQL and NATS in the
// mesh). Services declare the subset they use (CacheBackends, LedgerBackends...) and never learn which.
import type { EventBus } from "#libs/bus/event-bus.ts";
import type { CacheBackends } from "#services/cache/build.ts";
import type { EvaluatorBackends } from "#services/evaluator/build.ts";
import type { EdgeBackends } from "#services/edge/build.ts";
import type { LedgerBackends } from "#services/ledger/build.ts";
import type { RouterBackends } from "#services/router/build.ts";

export interface Backends extends CacheBackends, LedgerBackends, EvaluatorBackends, EdgeBackends, RouterBackends {
  /** Which parts these are, for the start-up log line. */
  readonly kind: "embedded" | "servers";
  bus(client: string): Promise<EventBus>;
  /** Shared dependencies reachable (the broker connected); false makes /readyz answer 503. */
  healthy(): boolean;
  /** Closes what was opened, after the services that use it have stopped. */
  close(): Promise<void>;
}
