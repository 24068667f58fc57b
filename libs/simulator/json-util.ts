// Narrowing helpers for untrusted request JSON.

export type JsonRecord = Record<string, unknown>;

export function isRecord(v: unknown): v is JsonRecord {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function positiveInt(v: unknown): number | undefined {
  return typeof v === "number" && Number.isInteger(v) && v > 0 ? v : undefined;
}

let cachedSec = 0;
let cachedAt = 0;

/** Unix seconds, recomputed at most every 250 ms (hot path). */
export function nowSec(): number {
  const now = Date.now();
  if (now - cachedAt > 250) {
    cachedAt = now;
    cachedSec = Math.floor(now / 1000);
  }
  return cachedSec;
}

const shortJson = new Map<string, string>();

/** JSON string literal, memoized for short strings (stream token pieces repeat constantly). */
export function jsonString(s: string): string {
  if (s.length > 24) return JSON.stringify(s);
  let j = shortJson.get(s);
  if (j === undefined) {
    j = JSON.stringify(s);
    if (shortJson.size >= 10_000) shortJson.clear();
    shortJson.set(s, j);
  }
  return j;
}
