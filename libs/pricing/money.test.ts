import { Decimal } from "decimal.js";
import { describe, expect, it } from "vitest";
import { addUsd, maxUsd, picoToUsd, ratePerTokenPico, subUsd, usdToPico } from "./money.ts";
import { createRng } from "#libs/random/rng.ts";


/** Pico amounts across every magnitude up to 2^53 - 1, both signs, zero and round numbers included. */
function amounts(n: number): number[] {
  const r = createRng(42);
  const out = [0, 1, -1, 10, 1_000_000_000_000, -1_000_000_000_000, 999_999_999_999, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 150_000, 450_000_000];
  for (let i = 0; i < n; i++) {
    const digits = 1 + Math.floor(r() * 16);
    let v = Math.floor(r() * 10 ** digits);
    if (r() < 0.3) v = Math.floor(v / 10 ** Math.floor(r() * digits)) * 10 ** Math.floor(r() * digits);
    if (!Number.isSafeInteger(v)) continue;
    out.push(r() < 0.5 ? -v : v);
  }
  return out;
}

const asDecimal = (pico: number): Decimal => new Decimal(pico).div(1e12);

describe("pico-USD money", () => {
  it("writes an amount exactly as Decimal#toFixed() does, and reads it back", () => {
    for (const n of amounts(20_000)) {
      const text = picoToUsd(n);
      expect(text, String(n)).toBe(asDecimal(n).toFixed());
      expect(usdToPico(text), text).toBe(n === 0 ? 0 : n);
    }
  });

  it("reads what Decimal reads, and refuses what it cannot hold exactly", () => {
    expect(usdToPico("0.00045")).toBe(450_000_000);
    expect(usdToPico("007.50")).toBe(7_500_000_000_000);
    expect(usdToPico("-0")).toBe(-0);
    expect(usdToPico("0.0000000000001")).toBeUndefined(); // 13 decimals
    expect(usdToPico("9007.199254740992")).toBeUndefined(); // 2^53 pico
    expect(usdToPico("9007.199254740991")).toBe(Number.MAX_SAFE_INTEGER);
    for (const bad of ["", "1e-7", "1.", ".5", "+1", "NaN", "Infinity", " 1", "0x10"]) expect(usdToPico(bad), bad).toBeUndefined();
  });

  it("adds, subtracts and compares as decimal.js does, inside and outside the exact range", () => {
    const xs = amounts(2_000).map(picoToUsd);
    xs.push("12345678.123456789012", "0.0000000000001", "1e-20");
    const r = createRng(7);
    for (let i = 0; i < 5_000; i++) {
      const a = xs[Math.floor(r() * xs.length)] ?? "0";
      const b = xs[Math.floor(r() * xs.length)] ?? "0";
      expect(addUsd(a, b), `${a} + ${b}`).toBe(new Decimal(a).plus(b).toFixed());
      expect(subUsd(a, b), `${a} - ${b}`).toBe(new Decimal(a).minus(b).toFixed());
      expect(maxUsd(a, b), `max(${a}, ${b})`).toBe(Decimal.max(a, b).toFixed());
    }
  });

  it("turns a per-1M rate into pico-USD per token only when that is a whole number", () => {
    expect(ratePerTokenPico(new Decimal("0.15"))).toBe(150_000);
    expect(ratePerTokenPico(new Decimal("0.1875"))).toBe(187_500);
    expect(ratePerTokenPico(new Decimal("0.000001"))).toBe(1);
    expect(ratePerTokenPico(new Decimal("0.0000001"))).toBeUndefined();
    expect(ratePerTokenPico(new Decimal("-1"))).toBeUndefined();
    expect(ratePerTokenPico(new Decimal("1e12"))).toBeUndefined();
  });
});
