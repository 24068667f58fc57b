// Multiple-testing corrections over one family of p-values: every cell tested in one nightly run.
// Both return adjusted p-values in the input order, so "reject at level a" is "adjusted p < a".

export { CORRECTIONS } from "#libs/config/routing-overrides.ts";
import { CORRECTIONS } from "#libs/config/routing-overrides.ts";
/** holm: family-wise error rate (Holm 1979, step-down). bh: false discovery rate (Benjamini–Hochberg 1995, step-up). */
export type Correction = (typeof CORRECTIONS)[number];

/**
 * Holm's step-down adjustment: sort ascending, p̃(i) = max over j ≤ i of min(1, (m − j + 1)·p(j)).
 * Controls the family-wise error rate (P(any false rejection) ≤ a) under any dependence.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  check(pValues);
  const m = pValues.length;
  const order = ascending(pValues);
  const out = new Array<number>(m);
  let running = 0;
  order.forEach((idx, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * (pValues[idx] as number)));
    out[idx] = running;
  });
  return out;
}

/**
 * Benjamini–Hochberg step-up adjustment: sort ascending, p̃(i) = min over j ≥ i of min(1, m·p(j)/j).
 * Controls the false discovery rate (expected share of false rejections among rejections ≤ a) for
 * independent or positively dependent tests; under the complete null it controls the family-wise rate too.
 */
export function benjaminiHochbergAdjust(pValues: readonly number[]): number[] {
  check(pValues);
  const m = pValues.length;
  const order = ascending(pValues);
  const out = new Array<number>(m);
  let running = 1;
  for (let rank = m - 1; rank >= 0; rank--) {
    const idx = order[rank] as number;
    running = Math.min(running, Math.min(1, (m * (pValues[idx] as number)) / (rank + 1)));
    out[idx] = running;
  }
  return out;
}

export function adjustPValues(pValues: readonly number[], correction: Correction): number[] {
  return correction === "holm" ? holmAdjust(pValues) : benjaminiHochbergAdjust(pValues);
}

/** Indices sorted by p ascending; ties keep input order (the result does not depend on it). */
function ascending(pValues: readonly number[]): number[] {
  return pValues.map((_, i) => i).sort((a, b) => (pValues[a] as number) - (pValues[b] as number) || a - b);
}

function check(pValues: readonly number[]): void {
  pValues.forEach((p, i) => {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`p-value ${i} must be in [0, 1], got ${p}`);
  });
}
