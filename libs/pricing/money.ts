// Exact money without decimal.js on the hot path: an amount as an integer count of 1e-12 USD
// ("pico-USD", the ledger's NUMERIC(30,12) unit) held in a double. Integer arithmetic on doubles is
// exact while every value stays within ±Number.MAX_SAFE_INTEGER (about ±$9,007 per amount); past
// that, or for an amount with more than 12 decimals, callers fall back to decimal.js. The strings
// are the ones Decimal#toFixed() gives for the same amount (no trailing zeros, no exponent, "0").
import { Decimal } from "decimal.js";

/** Decimal digits of a pico-USD amount after the point (MONEY_SCALE). */
const SCALE = 12;
const MAX = Number.MAX_SAFE_INTEGER;
const USD_TEXT = /^(-?)(\d+)(?:\.(\d{1,12}))?$/;

/** True when `n` is a pico-USD amount whose arithmetic is still exact. */
export function isExactPico(n: number): boolean {
  return Number.isSafeInteger(n);
}

/** A token count the integer path can multiply exactly: a non-negative safe integer. */
export function isTokenCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** A pico-USD amount (a safe integer) as Decimal#toFixed() writes the same amount in USD. */
export function picoToUsd(n: number): string {
  if (n === 0) return "0";
  const neg = n < 0;
  const digits = String(neg ? -n : n);
  const cut = digits.length - SCALE;
  const whole = cut > 0 ? digits.slice(0, cut) : "0";
  const frac = cut > 0 ? digits.slice(cut) : digits.padStart(SCALE, "0");
  let end = SCALE;
  while (end > 0 && frac.charCodeAt(end - 1) === 48) end--;
  const text = end === 0 ? whole : `${whole}.${frac.slice(0, end)}`;
  return neg ? `-${text}` : text;
}

/** A plain decimal USD string (at most 12 decimals) as pico-USD, or undefined when not exact as a double. */
export function usdToPico(usd: string): number | undefined {
  const m = USD_TEXT.exec(usd);
  if (!m) return undefined;
  const frac = m[3] ?? "";
  // The digits of the amount in pico-USD; Number() of an integer string is exact up to MAX.
  const n = Number(m[2] + frac + "0".repeat(SCALE - frac.length));
  if (!(n <= MAX)) return undefined;
  return m[1] ? -n : n;
}

/** Rate in USD per 1M tokens → pico-USD per token (rate × 10^6), when that is a safe integer. */
export function ratePerTokenPico(perMillion: Decimal): number | undefined {
  const d = perMillion.times(1_000_000);
  if (!d.isInteger() || d.isNegative() || d.gt(MAX)) return undefined;
  return d.toNumber();
}

/** a + b of exact USD strings, written as Decimal#plus(...).toFixed() would. */
export function addUsd(a: string, b: string): string {
  const x = usdToPico(a);
  const y = usdToPico(b);
  if (x !== undefined && y !== undefined) {
    const s = x + y;
    if (isExactPico(s)) return picoToUsd(s);
  }
  return new Decimal(a).plus(b).toFixed();
}

/** a - b of exact USD strings, written as Decimal#minus(...).toFixed() would. */
export function subUsd(a: string, b: string): string {
  const x = usdToPico(a);
  const y = usdToPico(b);
  if (x !== undefined && y !== undefined) {
    const s = x - y;
    if (isExactPico(s)) return picoToUsd(s);
  }
  return new Decimal(a).minus(b).toFixed();
}

/** The larger of two exact USD strings, written as Decimal.max(a, b).toFixed() would. */
export function maxUsd(a: string, b: string): string {
  const x = usdToPico(a);
  const y = usdToPico(b);
  if (x !== undefined && y !== undefined) return picoToUsd(x >= y ? x : y);
  return Decimal.max(a, b).toFixed();
}
