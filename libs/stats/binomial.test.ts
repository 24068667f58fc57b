import { describe, expect, it } from "vitest";
import { binomialUpperTail, logGamma, nonInferiorityPValue, normalCdf, normalQuantile, normalUpperTail, wilsonInterval, zForConfidence } from "./binomial.ts";

// Reference values from scipy 1.17 (scipy.stats.norm, scipy.stats.binom.sf(k - 1, n, p), scipy.special.gammaln).

/** Relative closeness (absolute below 1e-300). */
const close = (got: number, want: number, rel: number): void => {
  if (want === 0) expect(Math.abs(got)).toBeLessThan(1e-300);
  else expect(Math.abs(got - want) / Math.abs(want)).toBeLessThan(rel);
};

describe("logGamma", () => {
  it.each([
    [0.5, 0.5723649429247],
    [1, 0],
    [10, 12.801827480081469],
    [100.5, 361.43554046777757],
    [1e6, 12815504.569147611],
  ])("lnΓ(%d) = %d", (x, want) => {
    expect(logGamma(x)).toBeCloseTo(want, 10);
  });
});

describe("normal distribution", () => {
  it.each([
    [0.5, 0],
    [0.975, 1.959963984540054],
    [0.995, 2.5758293035489004],
    [0.05, -1.6448536269514729],
    [0.3, -0.5244005127080409],
    [1e-10, -6.361340902404056],
    [0.999999, 4.753424308817087],
  ])("Φ⁻¹(%d) = %d", (p, z) => {
    expect(normalQuantile(p)).toBeCloseTo(z, 12);
  });

  it.each([
    [0, 0.5],
    [1.96, 0.024997895148220435],
    [-1.96, 0.9750021048517795],
    [3, 0.0013498980316300933],
    [8, 6.22096057427174e-16],
    [20, 2.7536241186061556e-89],
  ])("P(Z > %d) = %d (relative precision in the far tail)", (z, q) => {
    close(normalUpperTail(z), q, 1e-12);
  });

  it("Φ and Φ⁻¹ invert each other", () => {
    for (const p of [1e-8, 0.001, 0.025, 0.2, 0.5, 0.77, 0.975, 0.9999]) expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 14);
    expect(zForConfidence(0.95)).toBeCloseTo(1.959963984540054, 12);
    expect(zForConfidence(0.9)).toBeCloseTo(1.6448536269514729, 12);
  });
});

describe("wilsonInterval", () => {
  it.each([
    // The textbook case: 8/10 at 95% → [0.490, 0.943].
    { passes: 8, n: 10, confidence: 0.95, lo: 0.49016, hi: 0.94332 },
    { passes: 0, n: 10, confidence: 0.95, lo: 0, hi: 0.27753 },
    { passes: 10, n: 10, confidence: 0.95, lo: 0.72247, hi: 1 },
    { passes: 5, n: 10, confidence: 0.95, lo: 0.23659, hi: 0.76341 },
    { passes: 81, n: 263, confidence: 0.95, lo: 0.25529, hi: 0.36621 },
    { passes: 95, n: 100, confidence: 0.99, lo: 0.86085, hi: 0.98315 },
    { passes: 95, n: 100, confidence: 0.9, lo: 0.90084, hi: 0.97545 },
  ])("$passes/$n at $confidence → [$lo, $hi]", ({ passes, n, confidence, lo, hi }) => {
    const [l, h] = wilsonInterval(passes, n, confidence);
    expect(l).toBeCloseTo(lo, 4);
    expect(h).toBeCloseTo(hi, 4);
  });

  it("8/10 at 95% rounds to [0.490, 0.943]", () => {
    expect(wilsonInterval(8, 10, 0.95).map((x) => x.toFixed(3))).toEqual(["0.490", "0.943"]);
  });

  it("is exactly [0, 1] at n = 0 and has exact ends at 0/n and n/n", () => {
    expect(wilsonInterval(0, 0)).toEqual([0, 1]);
    expect(wilsonInterval(0, 7)[0]).toBe(0);
    expect(wilsonInterval(7, 7)[1]).toBe(1);
  });

  it("refuses impossible counts and confidences", () => {
    expect(() => wilsonInterval(11, 10)).toThrow(RangeError);
    expect(() => wilsonInterval(-1, 10)).toThrow(RangeError);
    expect(() => wilsonInterval(1.5, 10)).toThrow(RangeError);
    expect(() => wilsonInterval(5, 10, 1)).toThrow(RangeError);
  });
});

describe("binomialUpperTail P(X ≥ k)", () => {
  it.each([
    [8, 10, 0.5, 0.0546875], // 56/1024
    [10, 10, 0.9, 0.34867844010000004], // 0.9^10
    [30, 30, 0.9, 0.04239115827521624],
    [29, 30, 0.9, 0.18369501919260367],
    [95, 100, 0.9, 0.05757688648703389],
    [100, 100, 0.9, 2.6561398887587523e-5],
    [1, 10, 0.1, 0.6513215599000001],
    [5, 10, 0.9, 0.9998530974],
    [50, 1000, 0.1, 0.9999999972132897],
    [200, 1000, 0.1, 2.9280548038287287e-21],
    [990, 1000, 0.9, 1.450898832178329e-32],
    [950, 1000, 0.9, 5.995167632379592e-9],
    [9500, 10000, 0.9, 9.661759316586807e-75],
  ])("k=%d n=%d p=%d → %d", (k, n, p, want) => {
    close(binomialUpperTail(k, n, p), want, 1e-9);
  });

  it("edges: k ≤ 0 → 1, k > n → 0, p ∈ {0, 1}", () => {
    expect(binomialUpperTail(0, 5, 0.5)).toBe(1);
    expect(binomialUpperTail(-3, 5, 0.5)).toBe(1);
    expect(binomialUpperTail(6, 5, 0.5)).toBe(0);
    expect(binomialUpperTail(1, 5, 0)).toBe(0);
    expect(binomialUpperTail(5, 5, 1)).toBe(1);
  });

  it("matches the pmf summed directly for every k (n = 40)", () => {
    const n = 40;
    for (const p of [0.05, 0.5, 0.9]) {
      const pmf: number[] = [];
      let c = 1;
      for (let k = 0; k <= n; k++) {
        pmf.push(c * p ** k * (1 - p) ** (n - k));
        c = (c * (n - k)) / (k + 1);
      }
      for (let k = 0; k <= n; k++) {
        const want = pmf.slice(k).reduce((a, b) => a + b, 0);
        expect(binomialUpperTail(k, n, p)).toBeCloseTo(want, 12);
      }
    }
  });
});

describe("nonInferiorityPValue (H0: rate ≤ threshold)", () => {
  it.each([
    { passes: 30, n: 30, threshold: 0.9, test: "exact" as const, p: 0.04239115827521624 },
    { passes: 29, n: 30, threshold: 0.9, test: "exact" as const, p: 0.18369501919260367 },
    // z = (29/30 − 0.9) / √(0.09 / 30) = 1.2171612389003692
    { passes: 29, n: 30, threshold: 0.9, test: "score" as const, p: 0.11177143728566025 },
    { passes: 90, n: 100, threshold: 0.9, test: "score" as const, p: 0.5 },
    { passes: 0, n: 0, threshold: 0.9, test: "exact" as const, p: 1 },
  ])("$passes/$n vs $threshold ($test) → $p", ({ passes, n, threshold, test, p }) => {
    close(nonInferiorityPValue(passes, n, threshold, test), p, 1e-9);
  });

  it("the score test rejects at a exactly when the (1 − 2a) Wilson lower bound clears the threshold", () => {
    const a = 0.05;
    for (const n of [20, 50, 137, 400]) {
      for (let passes = 0; passes <= n; passes++) {
        const rejects = nonInferiorityPValue(passes, n, 0.9, "score") < a;
        const lbClears = wilsonInterval(passes, n, 1 - 2 * a)[0] > 0.9;
        expect(rejects, `${passes}/${n}`).toBe(lbClears);
      }
    }
  });

  it("the exact test is never more liberal than its level at the H0 boundary (size ≤ a for every n)", () => {
    for (const n of [10, 30, 57, 100, 333]) {
      // The smallest k with P(X ≥ k) < a rejects; the size is P(X ≥ that k) under rate = threshold.
      // (n = 10 cannot reject at all: even 10/10 has p = 0.349, so k = n + 1 and the size is 0.)
      let k = 0;
      while (k <= n && nonInferiorityPValue(k, n, 0.9) >= 0.05) k++;
      expect(binomialUpperTail(k, n, 0.9)).toBeLessThan(0.05);
    }
  });
});
