// Keeps one replica's QualityGuard in step with the audits the evaluator recorded: reads GetCacheQuality
// over the guard's window every refreshSeconds (the first read at start, not awaited). Every replica
// reads the same rows from the evaluator's database, so they agree, and a restart loses nothing. A failed
// read is counted and keeps the last state: an evaluator outage neither suspends nor resumes a category.
import type { Client } from "@connectrpc/connect";
import type { EvaluatorService } from "#libs/gen/llmgw/evaluator/v1/evaluator_pb.ts";
import type { CacheMetrics } from "./domain/metrics.ts";
import type { QualityConfig, QualityGuard } from "./domain/quality-guard.ts";
import type { Logger } from "#libs/log/logger.ts";

export interface QualityRefresh {
  /** One read now (tests; the timer calls it too). */
  refresh(): Promise<void>;
  stop(): void;
}

export function startQualityRefresh(opts: {
  guard: QualityGuard;
  config: QualityConfig;
  evaluator: Pick<Client<typeof EvaluatorService>, "getCacheQuality">;
  logger: Pick<Logger, "info" | "warn">;
  metrics?: Pick<CacheMetrics, "qualitySuspended" | "qualityFloor" | "qualityRefreshFailures" | "entryFloors">;
  now?: () => number;
}): QualityRefresh {
  const { guard, config, evaluator, logger, metrics } = opts;
  const now = opts.now ?? Date.now;
  let running: Promise<void> | undefined;
  const read = async (): Promise<void> => {
    try {
      const since = new Date(now() - config.windowHours * 3_600_000).toISOString();
      const { rows, refutedEntries } = await evaluator.getCacheQuality({ since, withEntries: config.entryFloors }, { timeoutMs: 10_000 });
      const before = guard.entryFloorCount;
      const entries = guard.updateEntries(refutedEntries.map((e) => ({ tenant: e.tenantId, entryId: e.entryId, similarity: e.similarity })));
      metrics?.entryFloors.set(entries);
      if (entries !== before) logger.info({ entries, before }, "cache entries barred below a refuted similarity changed");
      const changed = guard.update(
        rows.map((r) => ({
          category: r.category,
          audits: Number(r.audits),
          wrong: Number(r.wrong),
          low: r.low,
          baselineAudits: Number(r.baselineAudits),
          baselineHigh: r.baselineHigh,
          baselineLow: r.baselineLow,
          cuts: r.cuts.map((c) => ({ similarity: c.similarity, audits: Number(c.audits), wrong: Number(c.wrong), high: c.high })),
        })),
      );
      // Categories that left the window are in `changed` (served in full again) but not in the snapshot.
      for (const q of [...changed, ...guard.snapshot()]) {
        metrics?.qualitySuspended.set({ category: q.category }, q.suspended ? 1 : 0);
        metrics?.qualityFloor.set({ category: q.category }, q.floor);
      }
      for (const q of changed) {
        const what = q.suspended ? "semantic cache suspended for a category: audited wrong hits over the bound" : q.floor > 0 ? "semantic cache raised a category's similarity floor: audited wrong hits over the bound below it" : "semantic cache serves a category in full again";
        logger.info({ category: q.category, suspended: q.suspended, floor: q.floor, audits: q.audits, wrong: q.wrong, wrongHitRateLow: q.low, bound: config.maxWrongHitRate }, what);
      }
    } catch (e) {
      metrics?.qualityRefreshFailures.inc();
      logger.warn({ err: e instanceof Error ? e.message : String(e) }, "reading the cache audits failed; keeping the last state");
    }
  };
  const refresh = (): Promise<void> => (running ??= read().finally(() => (running = undefined)));
  void refresh();
  const timer = setInterval(() => void refresh(), config.refreshSeconds * 1000);
  timer.unref();
  return { refresh, stop: () => clearInterval(timer) };
}
