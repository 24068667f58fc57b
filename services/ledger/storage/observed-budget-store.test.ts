import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { ScopeReservation } from "../domain/budget.ts";
import { MemoryBudgetStore } from "./budget-store-memory.ts";
import { observedBudgetStore, scopeLabels } from "./observed-budget-store.ts";

const scope = (counterKey: string, hardNano: number | null): ScopeReservation => ({ counterKey, hardNano, softNano: null, ttlSeconds: 60 });
const tick = () => new Promise((r) => setTimeout(r, 0));

async function value(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return m?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
}

describe("observedBudgetStore", () => {
  it("parses the store's counter keys into labels", () => {
    expect(scopeLabels("t:acme:day:2026-11-30")).toEqual({ scope: "tenant", tenant: "acme", key: "", period: "day" });
    expect(scopeLabels("k:acme:key-1:month:2026-11")).toEqual({ scope: "key", tenant: "acme", key: "key-1", period: "month" });
  });

  it("reports how full a limited budget is and counts refusals at the hard limit", async () => {
    const registry = new Registry();
    let t = 0;
    const store = observedBudgetStore(new MemoryBudgetStore(), registry, { intervalMs: 1_000, now: () => t });
    const scopes = [scope("t:acme:day:2026-11-30", 1_000), scope("k:acme:k1:day:2026-11-30", null)];
    expect((await store.reserve("r1", scopes, 600, 60_000)).admitted).toBe(true);
    await tick();
    expect(await value(registry, "llmgw_budget_utilization_ratio", { scope: "tenant", tenant: "acme", period: "day" })).toBeCloseTo(0.6);
    // An unlimited scope has no fill to report.
    expect(await value(registry, "llmgw_budget_utilization_ratio", { scope: "key" })).toBeUndefined();

    // Within the interval the counter is not read again; after it, it is.
    expect((await store.reserve("r2", scopes, 300, 60_000)).admitted).toBe(true);
    await tick();
    expect(await value(registry, "llmgw_budget_utilization_ratio", { scope: "tenant", tenant: "acme" })).toBeCloseTo(0.6);
    t = 2_000;
    expect((await store.reserve("r3", scopes, 500, 60_000)).admitted).toBe(false);
    await tick();
    expect(await value(registry, "llmgw_budget_utilization_ratio", { scope: "tenant", tenant: "acme" })).toBeCloseTo(0.9);
    expect(await value(registry, "llmgw_budget_refusals_total", { scope: "tenant", period: "day" })).toBe(1);

    // The rest of the store is reached as it is.
    expect(await store.settle("r1", 100)).toBe(true);
    expect(await store.current("t:acme:day:2026-11-30")).toBe(400);
  });
});
