// The replica's reader of the audits, against an EvaluatorService served through Connect's in-process
// transport: what it asks for, what it does with the answer, and an evaluator outage.
import { Code, ConnectError, createClient, createRouterTransport, type ServiceImpl } from "@connectrpc/connect";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type CacheQualityRowSchema, EvaluatorService, type GetCacheQualityRequest, type RefutedEntrySchema } from "#libs/gen/llmgw/evaluator/v1/evaluator_pb.ts";
import { silentLogger } from "#libs/log/logger.ts";
import { registerCacheMetrics } from "./domain/metrics.ts";
import { QualityGuard, qualityConfigSchema } from "./domain/quality-guard.ts";
import { startQualityRefresh } from "./quality-refresh.ts";

const NOW = Date.parse("2026-12-03T12:00:00Z");
const config = qualityConfigSchema.parse({ maxWrongHitRate: 0.05, minAudits: 30, windowHours: 24, refreshSeconds: 3600 });

type Row = MessageInitShape<typeof CacheQualityRowSchema>;

function setup(answer: () => { rows: Row[]; refutedEntries?: MessageInitShape<typeof RefutedEntrySchema>[] }, cfg = config) {
  const asked: GetCacheQualityRequest[] = [];
  const impl: Partial<ServiceImpl<typeof EvaluatorService>> = {
    getCacheQuality(req) {
      asked.push(req);
      return answer();
    },
  };
  const evaluator = createClient(EvaluatorService, createRouterTransport((r) => r.service(EvaluatorService, impl)));
  const registry = new Registry();
  const metrics = registerCacheMetrics(registry);
  const guard = new QualityGuard(cfg);
  const refresh = startQualityRefresh({ guard, config: cfg, evaluator, logger: silentLogger(), metrics, now: () => NOW });
  return { asked, guard, refresh, metrics };
}

const floorGauge = async (m: ReturnType<typeof registerCacheMetrics>, category: string) => (await m.qualityFloor.get()).values.find((v) => v.labels.category === category)?.value;
const suspended = async (m: ReturnType<typeof registerCacheMetrics>, category: string) => (await m.qualitySuspended.get()).values.find((v) => v.labels.category === category)?.value;

describe("startQualityRefresh", () => {
  it("reads the window's audits at start and suspends the categories over the bound", async () => {
    const { asked, guard, refresh, metrics } = setup(() => ({
      rows: [
        { category: "math", audits: 40n, wrong: 6n, wrongHitRate: 0.15, low: 0.071, high: 0.29 },
        { category: "code", audits: 40n, wrong: 1n, wrongHitRate: 0.025, low: 0.004, high: 0.13 },
      ],
    }));
    await refresh.refresh();
    refresh.stop();
    // The entry list too: per-entry floors are on by default.
    expect(asked[0]).toMatchObject({ since: "2026-12-02T12:00:00.000Z", tenantId: "", withEntries: true });
    expect(guard.allows("math")).toBe(false);
    expect(guard.allows("code")).toBe(true);
    expect(await suspended(metrics, "math")).toBe(1);
    expect(await suspended(metrics, "code")).toBe(0);
  });

  it("keeps the last state when the evaluator cannot answer, and counts the failure", async () => {
    let down = false;
    const { guard, refresh, metrics } = setup(() => {
      if (down) throw new ConnectError("evaluator down", Code.Unavailable);
      return { rows: [{ category: "math", audits: 40n, wrong: 6n, wrongHitRate: 0.15, low: 0.071, high: 0.29 }] };
    });
    await refresh.refresh();
    down = true;
    await refresh.refresh();
    refresh.stop();
    expect(guard.allows("math")).toBe(false);
    expect((await metrics.qualityRefreshFailures.get()).values[0]?.value).toBe(1);
  });

  it("a category that resumes has its gauge back at 0", async () => {
    let rows = [{ category: "math", audits: 40n, wrong: 6n, wrongHitRate: 0.15, low: 0.071, high: 0.29 }];
    const { guard, refresh, metrics } = setup(() => ({ rows }));
    await refresh.refresh();
    rows = [];
    await refresh.refresh();
    refresh.stop();
    expect(guard.allows("math")).toBe(true);
    expect(await suspended(metrics, "math")).toBe(0);
  });
  it("sets a similarity floor from the audits' cuts instead of suspending, and clears it when they age out", async () => {
    let rows: Row[] = [
      {
        category: "faq",
        audits: 200n,
        wrong: 22n,
        wrongHitRate: 0.11,
        low: 0.073,
        high: 0.161,
        cuts: [
          { similarity: 0.8, audits: 200n, wrong: 22n, high: 0.161 },
          { similarity: 0.88, audits: 90n, wrong: 0n, high: 0.041 },
        ],
      },
    ];
    const { guard, refresh, metrics } = setup(() => ({ rows }));
    await refresh.refresh();
    expect(guard.allows("faq")).toBe(true);
    expect(guard.floor("faq")).toBe(0.88);
    expect(await floorGauge(metrics, "faq")).toBe(0.88);
    expect(await suspended(metrics, "faq")).toBe(0);
    rows = [];
    await refresh.refresh();
    refresh.stop();
    expect(guard.floor("faq")).toBe(0);
    expect(await floorGauge(metrics, "faq")).toBe(0);
  });

  it("bars the refuted entries, counts them in a gauge, and lifts the bar when they age out", async () => {
    let refutedEntries = [{ tenantId: "acme", entryId: "k1", category: "faq", similarity: 0.93 }];
    const { guard, refresh, metrics } = setup(() => ({ rows: [], refutedEntries }));
    await refresh.refresh();
    expect(guard.entryFloor("acme", "k1")).toBe(0.93);
    expect((await metrics.entryFloors.get()).values[0]?.value).toBe(1);
    refutedEntries = [];
    await refresh.refresh();
    refresh.stop();
    expect(guard.entryFloor("acme", "k1")).toBeUndefined();
    expect((await metrics.entryFloors.get()).values[0]?.value).toBe(0);
  });

  it("does not ask for the entry list with per-entry floors off", async () => {
    const { asked, refresh } = setup(() => ({ rows: [] }), qualityConfigSchema.parse({ ...config, entryFloors: false }));
    await refresh.refresh();
    refresh.stop();
    expect(asked[0]?.withEntries).toBe(false);
  });
});
