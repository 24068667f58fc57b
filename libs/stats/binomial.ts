// Binomial statistics in plain functions with no dependency (the nightly analysis, the cache audits): the normal
// distribution (CDF through the regularized incomplete gamma function, quantile by Wichura's AS241),
// the Wilson score interval, the exact binomial tail and the one-sided non-inferiority p-value.

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
  9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; relative error ~1e-15). */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`logGamma: x must be > 0, got ${x}`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let a = LANCZOS[0] as number;
  const t = y + 7.5;
  for (let i = 1; i < LANCZOS.length; i++) a += (LANCZOS[i] as number) / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

const EPS = 1e-16;
const TINY = 1e-300;

/** Upper regularized incomplete gamma Q(a, x) = Γ(a, x) / Γ(a) (series below a + 1, continued fraction above). */
function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const front = Math.exp(-x + a * Math.log(x) - logGamma(a));
  if (x < a + 1) {
    let ap = a;
    let del = 1 / a;
    let sum = del;
    for (let i = 0; i < 10_000 && Math.abs(del) > Math.abs(sum) * EPS; i++) {
      ap += 1;
      del *= x / ap;
      sum += del;
    }
    return 1 - sum * front;
  }
  // Modified Lentz.
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return front * h;
}

/** P(Z > z) for a standard normal Z, accurate in the far tail (relative, not only absolute). */
export function normalUpperTail(z: number): number {
  if (Number.isNaN(z)) return NaN;
  if (z === Infinity) return 0;
  if (z === -Infinity) return 1;
  // erfc(t) = Q(1/2, t²) for t ≥ 0; P(Z > z) = erfc(z / √2) / 2.
  const q = 0.5 * gammaQ(0.5, (z * z) / 2);
  return z >= 0 ? q : 1 - q;
}

/** Φ(z) = P(Z ≤ z). */
export function normalCdf(z: number): number {
  return normalUpperTail(-z);
}

/** Φ⁻¹(p) for p in (0, 1): Wichura's AS241 (PPND16), relative error ~1e-16. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    throw new RangeError(`normalQuantile: p must be in [0, 1], got ${p}`);
  }
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (
      (q *
        (((((((2509.0809287301226727 * r + 33430.575583588128105) * r + 67265.770927008700853) * r + 45921.953931549871457) * r + 13731.693765509461125) * r +
          1971.5909503065514427) *
          r +
          133.14166789178437745) *
          r +
          3.387132872796366608)) /
      (((((((5226.495278852545561 * r + 28729.085735721942674) * r + 39307.89580009271061) * r + 21213.794301586595867) * r + 5394.1960214247511077) * r +
        687.1870074920579083) *
        r +
        42.313330701600911252) *
        r +
        1)
    );
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let x: number;
  if (r <= 5) {
    r -= 1.6;
    x =
      (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r + 0.24178072517745061177) * r + 1.27045825245236838258) * r + 3.64784832476320460504) * r +
        5.7694972214606914055) *
        r +
        4.6303378461565452959) *
        r +
        1.42343711074968357734) /
      (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r + 0.14810397642748007459) * r + 0.68976733498510000455) * r +
        1.6763848301838038494) *
        r +
        2.05319162663775882187) *
        r +
        1);
  } else {
    r -= 5;
    x =
      (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r + 0.026532189526576123093) * r + 0.29656057182850489123) * r +
        1.7848265399172913358) *
        r +
        5.4637849111641143699) *
        r +
        6.6579046435011037772) /
      (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r + 0.0148753612908506148525) * r +
        0.13692988092273580531) *
        r +
        0.59983220655588793769) *
        r +
        1);
  }
  return q < 0 ? -x : x;
}

/** The z of a two-sided interval at this confidence: Φ⁻¹(1 − (1 − confidence) / 2). */
export function zForConfidence(confidence: number): number {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  return normalQuantile(1 - (1 - confidence) / 2);
}

/**
 * Two-sided Wilson score interval for a binomial proportion at `confidence` (e.g. 0.95):
 * (p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n). [0, 1] when n = 0.
 */
export function wilsonInterval(passes: number, n: number, confidence = 0.95): [number, number] {
  checkCounts(passes, n);
  if (n === 0) return [0, 1];
  const z = zForConfidence(confidence);
  const p = passes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = p + z2 / (2 * n);
  const half = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // 0/n and n/n give exactly 0 and 1 in exact arithmetic; do not report the rounding dust.
  const lo = passes === 0 ? 0 : Math.max(0, (centre - half) / denom);
  const hi = passes === n ? 1 : Math.min(1, (centre + half) / denom);
  return [lo, hi];
}

/** log P(X = k) for X ~ Binomial(n, p), 0 < p < 1. */
function logBinomialPmf(k: number, n: number, p: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1) + k * Math.log(p) + (n - k) * Math.log1p(-p);
}

/**
 * Exact binomial upper tail P(X ≥ k) for X ~ Binomial(n, p). Sums the pmf from the side of k away
 * from the mode, where the terms only shrink, so the far tail keeps its relative precision
 * (P(X ≥ k) for k above the mode) and nothing underflows to a wrong 0.
 */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`binomialUpperTail: n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(k)) throw new RangeError(`binomialUpperTail: k must be an integer, got ${k}`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`binomialUpperTail: p must be in [0, 1], got ${p}`);
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p === 0) return 0;
  if (p === 1) return 1;
  const mode = Math.floor((n + 1) * p);
  const odds = p / (1 - p);
  if (k > mode) {
    // Upper tail summed upward from k: terms decrease.
    let term = Math.exp(logBinomialPmf(k, n, p));
    let sum = term;
    for (let i = k; i < n && term > sum * EPS; i++) {
      term *= ((n - i) / (i + 1)) * odds;
      sum += term;
    }
    return Math.min(1, sum);
  }
  // 1 − P(X ≤ k − 1), the lower tail summed downward from k − 1: terms decrease.
  let term = Math.exp(logBinomialPmf(k - 1, n, p));
  let sum = term;
  for (let i = k - 1; i > 0 && term > sum * EPS; i--) {
    term *= (i / (n - i + 1)) / odds;
    sum += term;
  }
  return Math.max(0, 1 - sum);
}

/** How the one-sided non-inferiority p-value is computed. */
export const NON_INFERIORITY_TESTS = ["exact", "score"] as const;
export type NonInferiorityTest = (typeof NON_INFERIORITY_TESTS)[number];

/**
 * One-sided p-value of H0: rate ≤ threshold against H1: rate > threshold, from `passes` of `n`.
 *
 * - "exact" (default): P(X ≥ passes) for X ~ Binomial(n, threshold), the exact binomial tail at the
 *   boundary of H0. Its size never exceeds the nominal level (it is conservative, because the
 *   binomial is discrete), which is what the family-wise guarantee of Holm rests on.
 * - "score": the normal approximation of the score test, 1 − Φ((p̂ − t) / √(t(1−t)/n)). It is the
 *   test the Wilson interval inverts: p < a exactly when the lower end of the two-sided Wilson
 *   interval at confidence 1 − 2a is above t. Its size can exceed the nominal level at small n.
 */
export function nonInferiorityPValue(passes: number, n: number, threshold: number, test: NonInferiorityTest = "exact"): number {
  checkCounts(passes, n);
  if (!(threshold > 0 && threshold < 1)) throw new RangeError(`threshold must be in (0, 1), got ${threshold}`);
  if (n === 0) return 1;
  if (test === "exact") return binomialUpperTail(passes, n, threshold);
  const z = (passes / n - threshold) / Math.sqrt((threshold * (1 - threshold)) / n);
  return normalUpperTail(z);
}

function checkCounts(passes: number, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(passes) || passes < 0 || passes > n) throw new RangeError(`passes must be an integer in [0, n], got ${passes} of ${n}`);
}
