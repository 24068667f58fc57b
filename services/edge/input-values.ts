// Values the admin routes take from clients, checked before they reach PostgreSQL: amounts fit the
// ledger's numeric(30,12) columns, times are real dates PostgreSQL can store and compare.
import { Decimal } from "decimal.js";
import { errors } from "#libs/errors/openai-error.ts";
import { parseSince } from "#libs/time/since.ts";

/** Tenant and key ids as key creation accepts them: letters, digits, '.', '_', '-', 1 to 64 of them. */
export function isId(v: unknown): v is string {
  return typeof v === "string" && /^[\w.-]{1,64}$/.test(v);
}

/** A body's tenant id (required, isId), or a 400 naming it: the one check for every route that takes one. */
export function tenantIdParam(v: unknown, name = "tenant_id"): string {
  if (!isId(v)) throw errors.badRequest(`'${name}' is required (letters, digits, '.', '_', '-'; at most 64).`, name);
  return v;
}

/** Largest budget amount accepted (USD): far above any real budget, far below numeric(30,12)'s 10^18. */
export const MAX_USD = 1_000_000_000;
const MAX_DECIMALS = 12;

/** A non-negative USD amount as a decimal string ("" when absent), or a 400 naming the field. */
export function parseUsd(v: unknown, name: string): string {
  if (v === undefined || v === null) return "";
  const bad = () => errors.badRequest(`'${name}' must be a non-negative amount in USD, at most ${MAX_USD} with up to ${MAX_DECIMALS} decimals.`, name, "invalid_value");
  let text: string;
  if (typeof v === "number") {
    if (!Number.isFinite(v) || v < 0 || v > MAX_USD) throw bad();
    // Numbers print in exponent form below 1e-6; toFixed keeps them decimal.
    text = v.toFixed(MAX_DECIMALS).replace(/\.?0+$/, "");
  } else if (typeof v === "string") text = v.trim();
  else throw bad();
  const m = /^(\d{1,10})(?:\.(\d{1,12}))?$/.exec(text);
  if (!m || Number(text) > MAX_USD) throw bad();
  return text;
}

/** A soft limit over the hard one would never warn before the hard stop: a 400 naming `softName`. Amounts as parseUsd gives them ("" = none). */
export function checkSoftUnderHard(soft: string, hard: string, softName: string, hardName: string): void {
  // Decimal: amounts up to 10^9 with 12 decimals are not exact as doubles.
  if (soft && hard && new Decimal(soft).greaterThan(hard)) throw errors.badRequest(`'${softName}' must not be over '${hardName}'.`, softName, "invalid_value");
}

/** Earliest `since` accepted: before it the ledger holds nothing, and years past 9999 are not ISO dates PostgreSQL reads. */
const EARLIEST = Date.UTC(2000, 0, 1);

/** A `since` time within [2000-01-01, now + 1 day], or a 400 naming the field. */
export function checkSinceRange(d: Date, name = "since", now = Date.now()): Date {
  const t = d.getTime();
  if (!Number.isFinite(t) || t < EARLIEST || t > now + 86_400_000) {
    throw errors.badRequest(`'${name}' must be between 2000-01-01 and now.`, name, "invalid_value");
  }
  return d;
}

/** A query's `since` (ISO time or 7d / 24h / 30m, `fallback` when absent) within checkSinceRange, or a 400. */
export function sinceParam(raw: string | undefined, fallback: string, name = "since"): Date {
  const since = parseSince(raw ?? fallback);
  if (!since) throw errors.badRequest(`'${name}' must be an ISO-8601 time or a duration like 7d, 24h, 30m.`, name);
  return checkSinceRange(since, name);
}
