// Count-limited fault rules plus a seeded random error rate.
import { createRng } from "#libs/random/rng.ts";
import type { SimFaultRule } from "./types.ts";

const STATUSES = new Set([429, 500, 503, 400]);

export function isFaultRule(v: unknown): v is SimFaultRule {
  if (typeof v !== "object" || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    typeof r["status"] === "number" &&
    STATUSES.has(r["status"]) &&
    typeof r["count"] === "number" &&
    r["count"] >= 0 &&
    (r["model"] === undefined || r["model"] === null || typeof r["model"] === "string") &&
    (r["retryAfterSec"] === undefined || typeof r["retryAfterSec"] === "number")
  );
}

export class FaultBook {
  private rules: SimFaultRule[] = [];
  private readonly rng: () => number;

  constructor(
    private readonly errorRate: number,
    seed: number,
  ) {
    this.rng = createRng(seed);
  }

  add(rule: SimFaultRule): void {
    if (rule.count > 0) this.rules.push({ ...rule, ...(rule.model === null ? { model: undefined } : {}) });
  }

  clear(): void {
    this.rules = [];
  }

  /** The fault for the next request to `model`, consuming one count of the first matching rule. */
  take(model: string): { status: number; retryAfterSec?: number } | undefined {
    if (this.rules.length > 0) {
      const i = this.rules.findIndex((r) => r.model === undefined || r.model === model);
      const rule = this.rules[i];
      if (rule !== undefined) {
        rule.count--;
        if (rule.count <= 0) this.rules.splice(i, 1);
        return { status: rule.status, ...(rule.retryAfterSec !== undefined ? { retryAfterSec: rule.retryAfterSec } : {}) };
      }
    }
    if (this.errorRate > 0 && this.rng() < this.errorRate) return { status: 500 };
    return undefined;
  }
}
