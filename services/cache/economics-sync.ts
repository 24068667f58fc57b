// Pools one replica's semantic-cache economics with every other replica's (domain/economics.ts): every
// `syncMs` the replica adds its lookups to the store and reads everyone's back, then decides the
// per-category switch on them. The first sync reads the whole horizon, so a restarted replica starts
// from the pool, not from nothing. A failed sync is counted, its lookups go with the next one, and
// after three missed periods each replica decides on its own lookups until the pool answers again.
import type { Logger } from "#libs/log/logger.ts";
import type { SemanticEconomics } from "./domain/economics.ts";
import type { CacheMetrics } from "./domain/metrics.ts";
import type { EconomicsStore } from "./store/economics-store.ts";

export interface EconomicsSync {
  /** One sync now (tests; the timer calls it too). Resolves whether the pool answered. */
  sync(): Promise<boolean>;
  stop(): void;
}

export function startEconomicsSync(opts: {
  economics: SemanticEconomics;
  store: EconomicsStore;
  logger: Pick<Logger, "info" | "warn">;
  metrics?: Pick<CacheMetrics, "economicsSyncFailures">;
  /** After each sync that answered: every category the replica knows (gauges). */
  onSynced?: (categories: string[]) => void;
}): EconomicsSync {
  const { economics, store, logger, metrics } = opts;
  let failing = false;
  let running: Promise<boolean> | undefined;
  const once = async (): Promise<boolean> => {
    const req = economics.syncRequest();
    try {
      const res = await store.sync(req);
      economics.syncApplied(req, res);
    } catch (e) {
      economics.syncFailed(req);
      metrics?.economicsSyncFailures.inc();
      if (!failing) logger.warn({ err: e instanceof Error ? e.message : String(e), store: store.kind }, "pooling the cache economics failed; this replica decides on its own lookups until the pool answers");
      failing = true;
      return false;
    }
    if (failing) logger.info({ store: store.kind }, "pooling the cache economics again");
    failing = false;
    return true;
  };
  const run = async (): Promise<boolean> => {
    let ok = await once();
    // A switch decided on this read is written at once, so the other replicas read it on their next sync.
    if (ok && economics.unsentSwitches > 0) ok = await once();
    if (ok) opts.onSynced?.(economics.snapshot().map((e) => e.category));
    return ok;
  };
  const sync = (): Promise<boolean> => (running ??= run().finally(() => (running = undefined)));
  const timer = setInterval(() => void sync(), economics.config.syncMs);
  timer.unref();
  return { sync, stop: () => clearInterval(timer) };
}
