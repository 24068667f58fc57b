import { Decimal } from "decimal.js";
import type { BudgetState } from "#libs/config/closed-sets.ts";
import { limitersFor, type RateCharge, type RateLimitValues, type RateRefusal, type RateStatus } from "./rate-limit.ts";

export type { BudgetState } from "#libs/config/closed-sets.ts";

export type BudgetPeriod = "day" | "month";

export interface Limit {
  /** USD decimal strings; undefined = no limit. */
  softUsd?: string;
  hardUsd?: string;
}

/** Limits that apply to one key: its own and its tenant's, per day and month. */
export interface ApplicableLimits {
  tenant: Partial<Record<BudgetPeriod, Limit>>;
  key: Partial<Record<BudgetPeriod, Limit>>;
  /**
   * The tenant's limits version these were read at, when limits are shared by replicas (mesh):
   * the store refuses a reservation made with an outdated version, in its own atomic step.
   */
  version?: number;
  /** Rate limits of the tenant and of the key (absent = none). */
  rates?: { tenant?: RateLimitValues; key?: RateLimitValues };
}

export interface BudgetLimitSource {
  limitsFor(tenantId: string, keyId: string): Promise<ApplicableLimits>;
  /** The store saw `version` for the tenant: drop cached limits older than it. */
  outdated?(tenantId: string, version: number): void;
}

/** Per-tenant limits version shared by replicas: bumped on every limit change. */
export interface LimitsVersions {
  version(tenantId: string): Promise<number>;
  bump(tenantId: string): Promise<void>;
}

/** Reserve only if the tenant's limits version is still `version`. */
export interface LimitsGuard {
  tenantId: string;
  version: number;
}

/** One counter to check and reserve in; amounts in integer nano-USD (exact, fits a Lua double). */
export interface ScopeReservation {
  counterKey: string;
  hardNano: number | null;
  softNano: number | null;
  ttlSeconds: number;
}

export interface StoreReserveResult {
  admitted: boolean;
  state: BudgetState;
  /** Counter that refused (when not admitted). */
  scope?: string;
  /** Set when nothing was reserved because the guard's version is outdated: the current version. */
  staleVersion?: number;
  /** Each scope's counter after a new reservation (in the order of the scopes), when the store reports it. */
  counters?: number[];
  /** Rate limits: the x-ratelimit-* status, and the refusal when one refused (then nothing was reserved). */
  rate?: StoreRate;
}

export interface StoreRate {
  status?: RateStatus;
  refusal?: RateRefusal;
}

/** Atomic reservations across replicas (Redis) or in one process (memory): same contract. */
export interface BudgetStore {
  /** `guard` (optional; the memory store has one process, hence no stale limits, and ignores it). */
  reserve(reservationId: string, scopes: ScopeReservation[], amountNano: number, reservationTtlMs: number, guard?: LimitsGuard, rate?: RateCharge): Promise<StoreReserveResult>;
  /**
   * Replaces the reservation by the actual amount (and its token estimate by `actualTokens` on the
   * token rate limits; undefined leaves the estimate). False when the reservation is unknown.
   */
  settle(reservationId: string, actualNano: number, actualTokens?: number): Promise<boolean>;
  release(reservationId: string): Promise<boolean>;
  /** Current spent + reserved on a counter (reports, tests). */
  current(counterKey: string): Promise<number>;
}

const NANO = new Decimal(1e9);
/** Reservations round up (never under-reserve), settlements to the nearest nano-dollar. */
export const usdToNanoCeil = (usd: string): number => shortUsdToNanoCeil(usd) ?? new Decimal(usd).mul(NANO).ceil().toNumber();
export const usdToNano = (usd: string): number => new Decimal(usd).mul(NANO).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber();
export const nanoToUsd = (n: number): string => new Decimal(n).div(NANO).toFixed();

/**
 * At most 6 integer and 14 fraction digits: 20 significant digits, which Decimal multiplies by 1e9
 * exactly (its precision is 20), and below 1e15 nano (exact in a double). Reservations are such
 * strings; they skip the Decimal parse, multiply and ceil, with the same result.
 */
const SHORT_USD = /^(\d{1,6})(?:\.(\d{1,14}))?$/;

function shortUsdToNanoCeil(usd: string): number | undefined {
  const m = SHORT_USD.exec(usd);
  if (m === null) return undefined;
  const frac = m[2] ?? "";
  let nano = Number(m[1]) * 1e9;
  if (frac.length <= 9) return nano + (frac.length > 0 ? Number(frac.padEnd(9, "0")) : 0);
  nano += Number(frac.slice(0, 9));
  // Any non-zero digit past the nano-dollar rounds up.
  return /[1-9]/.test(frac.slice(9)) ? nano + 1 : nano;
}

const DAY_MS = 86_400_000;
/** The UTC day of the last call and its keys: one toISOString a day instead of two a reservation. */
let lastDay = { start: 0, end: 0, day: "", month: "" };

export function periodKey(period: BudgetPeriod, at: Date): string {
  const t = at.getTime();
  // NaN (an invalid date) fails both tests: toISOString throws, as it always did.
  if (!(t >= lastDay.start && t < lastDay.end)) {
    const iso = at.toISOString();
    const start = Math.floor(t / DAY_MS) * DAY_MS;
    lastDay = { start, end: start + DAY_MS, day: iso.slice(0, 10), month: iso.slice(0, 7) };
  }
  return period === "day" ? lastDay.day : lastDay.month;
}

const TTL: Record<BudgetPeriod, number> = { day: 3 * 86_400, month: 35 * 86_400 };

/**
 * The four counters a request touches (tenant and key, day and month). They are always counted,
 * even without a limit, so a limit added mid-period sees the spend so far.
 */
export function scopesFor(tenantId: string, keyId: string, limits: ApplicableLimits, at: Date): ScopeReservation[] {
  const out: ScopeReservation[] = [];
  for (const period of ["day", "month"] as const) {
    const pk = periodKey(period, at);
    const scopes: Array<[string, Limit | undefined]> = [
      [`t:${tenantId}:${period}:${pk}`, limits.tenant[period]],
      [`k:${tenantId}:${keyId}:${period}:${pk}`, limits.key[period]],
    ];
    for (const [counterKey, l] of scopes) {
      out.push({
        counterKey,
        hardNano: l?.hardUsd !== undefined ? usdToNano(l.hardUsd) : null,
        softNano: l?.softUsd !== undefined ? usdToNano(l.softUsd) : null,
        ttlSeconds: TTL[period],
      });
    }
  }
  return out;
}

export interface ReserveRequest {
  reservationId: string;
  tenantId: string;
  keyId: string;
  /** Worst case (input tokens + max_tokens at the model's price), decimal USD. */
  amountUsd: string;
  /** Prompt token estimate, charged to token rate limits. */
  tokens?: number;
}

export interface ReserveResult {
  admitted: boolean;
  state: BudgetState;
  message: string;
  /** Refused by a rate limit (not the budget). */
  rateLimited?: RateRefusal;
  rateStatus?: RateStatus;
}

/**
 * Budget admission: reserve the worst case in every scope atomically, settle with the real cost,
 * release on failure. Over a hard limit → not admitted (the edge answers 429 insufficient_quota);
 * past a soft limit → admitted with state "soft" (the router prefers cheaper tiers).
 */
export class Budgets {
  constructor(
    private readonly store: BudgetStore,
    private readonly limits: BudgetLimitSource,
    private readonly opts: { reservationTtlMs?: number; now?: () => Date } = {},
  ) {}

  async reserve(r: ReserveRequest): Promise<ReserveResult> {
    const amount = usdToNanoCeil(r.amountUsd);
    const ttl = this.opts.reservationTtlMs ?? 10 * 60_000;
    let res: StoreReserveResult;
    // Limits changed on another replica: reload and retry. Bounded (limits churning faster than
    // admissions is not a real case); the last attempt is unguarded and uses what it loaded.
    for (let attempt = 0; ; attempt++) {
      const limits = await this.limits.limitsFor(r.tenantId, r.keyId);
      const now = this.opts.now?.() ?? new Date();
      const guard = limits.version !== undefined && attempt < 2 ? { tenantId: r.tenantId, version: limits.version } : undefined;
      const rate: RateCharge = { tokens: r.tokens ?? 0, limiters: limitersFor(r.tenantId, r.keyId, limits.rates ?? {}) };
      res = await this.store.reserve(r.reservationId, scopesFor(r.tenantId, r.keyId, limits, now), amount, ttl, guard, rate);
      if (res.staleVersion === undefined) break;
      this.limits.outdated?.(r.tenantId, res.staleVersion);
    }
    const refusal = res.rate?.refusal;
    const message = refusal
      ? rateMessage(refusal)
      : res.admitted
        ? res.state === "soft" ? "soft budget limit passed" : ""
        : `hard budget limit reached (${res.scope ?? "budget"})`;
    return { admitted: res.admitted && !refusal, state: res.state, message, ...(refusal ? { rateLimited: refusal } : {}), ...(res.rate?.status ? { rateStatus: res.rate.status } : {}) };
  }

  /**
   * Empty/undefined actual releases the reservation (the request failed before costing; its token
   * estimate is given back). `actualTokens` replaces the estimate on the token rate limits.
   */
  async settle(reservationId: string, actualUsd?: string, actualTokens?: number): Promise<boolean> {
    if (actualUsd === undefined || actualUsd === "") return this.store.release(reservationId);
    return this.store.settle(reservationId, usdToNano(actualUsd), actualTokens);
  }

  release(reservationId: string): Promise<boolean> {
    return this.store.release(reservationId);
  }
}

function rateMessage(r: RateRefusal): string {
  const [scope = "key", field = "requests_per_minute"] = r.refusedBy.split(":");
  const what = field.replaceAll("_", " ");
  return `Rate limit reached for this ${scope === "tenant" ? "tenant" : "key"} (${what}). Try again in ${Math.max(1, Math.ceil(r.retryAfterMs / 1000))} s.`;
}
