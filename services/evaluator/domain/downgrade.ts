// Where is the cheaper model safe? Per (tenant, category, tier, from → to): samples and pass rate,
// and "safe" only when the Wilson lower bound of the pass rate clears the target with enough samples.
export interface FindingKey {
  tenant: string;
  category: string;
  tier: string;
  from: string;
  to: string;
}

export interface Finding extends FindingKey {
  samples: number;
  passes: number;
  passRate: number;
  lowerBound: number;
  safe: boolean;
}

export interface DowngradePolicy {
  minSamples: number;
  targetPassRate: number;
}

export const DEFAULT_DOWNGRADE_POLICY: DowngradePolicy = { minSamples: 30, targetPassRate: 0.9 };

/** Where findings come from: the recorded shadow results (storage), or counts in memory (tests). */
export interface FindingSource {
  report(tenant: string, policy?: DowngradePolicy): Finding[] | Promise<Finding[]>;
}

export class DowngradeStats implements FindingSource {
  private readonly cells = new Map<string, { key: FindingKey; samples: number; passes: number }>();

  record(key: FindingKey, ok: boolean): void {
    const id = [key.tenant, key.category, key.tier, key.from, key.to].join("\u0000");
    const c = this.cells.get(id) ?? { key, samples: 0, passes: 0 };
    c.samples++;
    if (ok) c.passes++;
    this.cells.set(id, c);
  }

  report(tenant: string, policy: DowngradePolicy = DEFAULT_DOWNGRADE_POLICY): Finding[] {
    const out: Finding[] = [];
    for (const c of this.cells.values()) {
      if (tenant && c.key.tenant !== tenant) continue;
      const lb = wilsonLower(c.passes, c.samples);
      out.push({ ...c.key, samples: c.samples, passes: c.passes, passRate: c.passes / c.samples, lowerBound: lb, safe: c.samples >= policy.minSamples && lb >= policy.targetPassRate });
    }
    return out.sort((a, b) => b.samples - a.samples);
  }
}

/** Wilson score interval lower bound at 95%. */
export function wilsonLower(passes: number, n: number, z = 1.96): number {
  if (n === 0) return 0;
  const p = passes / n;
  const denom = 1 + (z * z) / n;
  const centre = p + (z * z) / (2 * n);
  const margin = z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return Math.max(0, (centre - margin) / denom);
}
