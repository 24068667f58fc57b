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
