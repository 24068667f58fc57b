// The canary report: per arm (live version, canary version) the requests, cost and baseline from the
// ledger and the shadow tests' pass rates from the evaluator, side by side, so a person can promote
// or stop the canary on evidence. Cost per request is the comparable figure: the arms differ in size.
import { Decimal } from "decimal.js";
import type { PolicyQualityRow } from "#libs/gen/llmgw/evaluator/v1/evaluator_pb.ts";
import type { SpendRow } from "#libs/gen/llmgw/ledger/v1/ledger_pb.ts";
import type { PolicyCanary, PolicyState } from "#libs/gen/llmgw/router/v1/router_pb.ts";

export interface ArmReport {
  arm: "live" | "canary";
  version: number;
  requests: number;
  cost_usd: string;
  baseline_usd: string;
  cost_per_request_usd: string | null;
  savings: number | null;
  /** A canary's downgrades judged against the live version's model ("up"), and downgrade tests ("down"). */
  shadow: { direction: string; tests: number; passes: number; pass_rate: number; interval: [number, number] }[];
}

export function canaryReport(policy: PolicyState, c: PolicyCanary, spend: readonly SpendRow[], quality: readonly PolicyQualityRow[]) {
  const arm = (name: "live" | "canary", version: number): ArmReport => {
    const row = spend.find((r) => r.group === `${version}:${name}`);
    const requests = Number(row?.requests ?? 0n);
    const cost = new Decimal(row?.costUsd || 0);
    const baseline = new Decimal(row?.baselineUsd || 0);
    return {
      arm: name,
      version,
      requests,
      cost_usd: cost.toFixed(),
      baseline_usd: baseline.toFixed(),
      cost_per_request_usd: requests > 0 ? cost.div(requests).toFixed(12) : null,
      savings: baseline.gt(0) ? Number(baseline.minus(cost).div(baseline).toFixed(6)) : null,
      shadow: quality
        .filter((q) => Number(q.policyVersion) === version && q.canary === (name === "canary"))
        .map((q) => ({ direction: q.direction, tests: Number(q.tests), passes: Number(q.passes), pass_rate: q.passRate, interval: [q.low, q.high] })),
    };
  };
  const live = arm("live", Number(policy.version));
  const canary = arm("canary", Number(c.version));
  const costRatio = live.cost_per_request_usd && canary.cost_per_request_usd && Number(live.cost_per_request_usd) > 0 ? Number(canary.cost_per_request_usd) / Number(live.cost_per_request_usd) : null;
  return {
    object: "llmgw.policy_canary",
    since: c.startedAt,
    share: c.share,
    reason: c.reason,
    arms: [live, canary],
    canary_cost_per_request_vs_live: costRatio,
  };
}
