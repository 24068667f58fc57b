// Routing metrics (RouteLLM definitions): quality vs strong-call share curve, PGR, CPT(x), APGR.

export interface ScoredItem {
  /** Router score: higher = send to strong sooner. */
  score: number;
  weakQuality: number;
  strongQuality: number;
}

export interface CurvePoint {
  /** Share of calls sent to the strong model, 0..1. */
  share: number;
  quality: number;
  /** Items with score >= threshold go strong (Infinity at share 0). */
  threshold: number;
}

/**
 * Full curve from sweeping the threshold: one point per distinct score (ties go together, so the
 * straight segment between points is the expected result of breaking ties at random).
 */
export function routingCurve(items: ScoredItem[]): CurvePoint[] {
  const n = items.length;
  if (n === 0) return [];
  const sorted = [...items].sort((a, b) => b.score - a.score);
  let quality = sorted.reduce((s, it) => s + it.weakQuality, 0);
  const points: CurvePoint[] = [{ share: 0, quality: quality / n, threshold: Infinity }];
  let i = 0;
  while (i < n) {
    const s = sorted[i]!.score;
    while (i < n && sorted[i]!.score === s) {
      quality += sorted[i]!.strongQuality - sorted[i]!.weakQuality;
      i++;
    }
    points.push({ share: i / n, quality: quality / n, threshold: s });
  }
  return points;
}

/** Performance gap recovered: 0 at all-weak quality, 1 at all-strong quality. */
export function pgr(quality: number, weak: number, strong: number): number {
  const gap = strong - weak;
  return gap === 0 ? 0 : (quality - weak) / gap;
}

/** Smallest strong share where the (linearly interpolated) curve recovers `target` of the gap; null if never. */
export function cpt(curve: CurvePoint[], weak: number, strong: number, target: number): number | null {
  if (curve.length === 0) return null;
  const first = curve[0]!;
  if (pgr(first.quality, weak, strong) >= target) return first.share;
  for (let k = 1; k < curve.length; k++) {
    const a = curve[k - 1]!;
    const b = curve[k]!;
    const pa = pgr(a.quality, weak, strong);
    const pb = pgr(b.quality, weak, strong);
    if (pb >= target && pa < target) {
      const t = pb === pa ? 0 : (target - pa) / (pb - pa);
      return a.share + t * (b.share - a.share);
    }
  }
  return null;
}

/** Average PGR over strong share 0..1: trapezoidal area under the PGR curve. */
export function apgr(curve: CurvePoint[], weak: number, strong: number): number {
  let area = 0;
  for (let k = 1; k < curve.length; k++) {
    const a = curve[k - 1]!;
    const b = curve[k]!;
    area += ((pgr(a.quality, weak, strong) + pgr(b.quality, weak, strong)) / 2) * (b.share - a.share);
  }
  return area;
}

/** Quality and strong share when routing by explicit decisions. */
export function operatingPoint(items: ScoredItem[], strong: boolean[]): { share: number; quality: number } {
  const n = items.length || 1;
  let q = 0;
  let s = 0;
  items.forEach((it, i) => {
    if (strong[i]) {
      s++;
      q += it.strongQuality;
    } else q += it.weakQuality;
  });
  return { share: s / n, quality: q / n };
}

/** Curve thinned to about `points` points, for reports. */
export function thinCurve(curve: CurvePoint[], points: number): CurvePoint[] {
  if (curve.length <= points) return curve;
  const out: CurvePoint[] = [];
  let next = 0;
  for (const p of curve) {
    if (p.share >= next || p === curve[curve.length - 1]) {
      out.push(p);
      next = p.share + 1 / (points - 1) - 1e-12;
    }
  }
  return out;
}
