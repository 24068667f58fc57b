// Number formatting shared by the Markdown report and the YAML patch.
import type { Correction } from "./multiplicity.ts";

/** "Holm" / "BH", for prose ("Holm-adjusted p"). */
export const CORRECTION_LABEL: Record<Correction, string> = { holm: "Holm", bh: "BH" };

/** $1,234.56 (two decimals, thousands separators). */
export function fmtUsd(x: number): string {
  const sign = x < 0 ? "-" : "";
  return `${sign}$${Math.abs(x).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** 0.9642 → "96.4%". */
export function fmtPct(x: number, digits = 1): string {
  return `${(x * 100).toFixed(digits)}%`;
}

/** p-values: 3 significant digits, scientific below 1e-4, "< 1e-300" at the floor. */
export function fmtP(p: number): string {
  if (p === 0) return "< 1e-300";
  if (p < 1e-4) return p.toExponential(2);
  return p.toPrecision(3);
}

/** A number rounded to `digits` decimals (for values written to YAML). */
export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Rounded down / up to `digits` decimals: an interval written shorter never claims more than it has. */
export function floorTo(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.floor(x * f + 1e-9) / f;
}
export function ceilTo(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.ceil(x * f - 1e-9) / f;
}

/** Three significant digits, as a number (p-values written to YAML). */
export function sig3(x: number): number {
  return Number(x.toPrecision(3));
}
