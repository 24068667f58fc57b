import { create } from "@bufbuild/protobuf";
import { Registry, type MetricValue } from "prom-client";
import { describe, expect, it } from "vitest";
import { RequestCompletedSchema } from "#libs/gen/llmgw/events/v1/events_pb.ts";
import type { RequestCost } from "../domain/request-cost.ts";
import type { WriteResult } from "../storage/ledger-writer.ts";
import { ledgerMetrics } from "./ledger-metrics.ts";

function result(id: string, inserted: boolean, cost: Partial<RequestCost>, completedAt: string): WriteResult {
  const base: RequestCost = {
    requestId: id, costUsd: "0", baselineUsd: "0", savingsUsd: "0", cacheSavingsUsd: "0", routingSavingsUsd: "0", cascadeSavingsUsd: "0", batchSavingsUsd: "0",
    unpriced: false, unpricedModels: [], billedUsage: { inputTokens: 0, cachedInputTokens: 0, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0, outputTokens: 0, reasoningTokens: 0, estimated: false }, usageEstimated: false, calls: [],
  };
  const event = create(RequestCompletedSchema, { context: { requestId: id, tenantId: "acme" }, model: "gpt-4o-mini", cacheOutcome: "miss", completedAt });
  return { requestId: id, inserted, cost: { ...base, ...cost }, event };
}

async function values(registry: Registry, name: string): Promise<MetricValue<string>[]> {
  return (await registry.getMetricsAsJSON()).find((m) => m.name === name)?.values ?? [];
}

describe("ledgerMetrics", () => {
  it("counts what was inserted: cost, baseline, savings by source (negative apart), lag", async () => {
    const registry = new Registry();
    const now = Date.parse("2026-11-30T12:00:10Z");
    const m = ledgerMetrics(registry, () => now);
    m.committed([
      result("a", true, { costUsd: "0.25", baselineUsd: "1", routingSavingsUsd: "0.75" }, "2026-11-30T12:00:08Z"),
      result("b", true, { costUsd: "1.5", baselineUsd: "1", cascadeSavingsUsd: "-0.5" }, "2026-11-30T12:00:09Z"),
      // A redelivered event inserts nothing and counts nothing.
      result("a", false, { costUsd: "0.25", baselineUsd: "1", routingSavingsUsd: "0.75" }, "2026-11-30T12:00:08Z"),
    ]);
    expect((await values(registry, "llmgw_ledger_requests_total"))[0]?.value).toBe(2);
    expect((await values(registry, "llmgw_ledger_cost_usd_total"))[0]?.value).toBeCloseTo(1.75);
    expect((await values(registry, "llmgw_ledger_baseline_usd_total"))[0]?.value).toBeCloseTo(2);
    expect(await values(registry, "llmgw_ledger_savings_usd_total")).toEqual([expect.objectContaining({ labels: { source: "routing" }, value: 0.75 })]);
    expect(await values(registry, "llmgw_ledger_negative_savings_usd_total")).toEqual([expect.objectContaining({ labels: { source: "cascade" }, value: 0.5 })]);
    expect((await values(registry, "llmgw_ledger_consumer_lag_seconds"))[0]?.value).toBeCloseTo(1);
    expect((await values(registry, "llmgw_ledger_last_commit_timestamp_seconds"))[0]?.value).toBe(now / 1000);
    const lagCount = (await values(registry, "llmgw_ledger_event_lag_seconds")).find((v) => v.labels["le"] === "+Inf");
    expect(lagCount?.value).toBe(2);
  });
});
