// Rate limits (requests and tokens per minute and per day, per tenant and per key) as GCRA: each
// limiter keeps one number, its theoretical arrival time (TAT). A request of cost c is admitted when
// the TAT after it, max(TAT, now) + c·T with T = period / limit, is within one period of now: at most
// `limit` per period, a full burst allowed, refilled smoothly. The Redis store runs the same steps in
// Lua (budget-store-redis.ts), atomically with the budget reservation; this file is the reference
// the memory store runs and the tests compare both with.

export const RATE_FIELDS = ["requests_per_minute", "tokens_per_minute", "requests_per_day", "tokens_per_day"] as const;
export type RateField = (typeof RATE_FIELDS)[number];

/** One scope's limits; absent = no such limit. */
export type RateLimitValues = Partial<Record<RateField, number>>;

export interface RateLimitRow extends RateLimitValues {
  tenantId: string;
  /** "" = the whole tenant. */
  keyId: string;
}

export type RateKind = "requests" | "tokens";

const FIELD: Record<RateField, { kind: RateKind; periodMs: number; short: string }> = {
  requests_per_minute: { kind: "requests", periodMs: 60_000, short: "rpm" },
  tokens_per_minute: { kind: "tokens", periodMs: 60_000, short: "tpm" },
  requests_per_day: { kind: "requests", periodMs: 86_400_000, short: "rpd" },
  tokens_per_day: { kind: "tokens", periodMs: 86_400_000, short: "tpd" },
};

/** One limiter a request is checked against. */
export interface RateLimiter {
  /** Store key (under the store's prefix). A changed limit keeps the TAT: the share of the window used. */
  key: string;
  kind: RateKind;
  limit: number;
  periodMs: number;
  /** "tenant:requests_per_minute", "key:tokens_per_day", ...: said in the refusal. */
  name: string;
}

/** What one admission charges: 1 request and `tokens` (the prompt estimate) on each limiter. */
export interface RateCharge {
  tokens: number;
  limiters: RateLimiter[];
}

/** OpenAI's x-ratelimit-* values for the most constraining limiter of each kind (limit 0 = none). */
export interface RateStatus {
  limitRequests: number;
  remainingRequests: number;
  resetRequestsMs: number;
  limitTokens: number;
  remainingTokens: number;
  resetTokensMs: number;
}

export interface RateRefusal {
  retryAfterMs: number;
  refusedBy: string;
}

export const NO_RATE_STATUS: RateStatus = { limitRequests: 0, remainingRequests: 0, resetRequestsMs: 0, limitTokens: 0, remainingTokens: 0, resetTokensMs: 0 };

/** The limiters for a key: its tenant's limits and its own, each window separately. */
export function limitersFor(tenantId: string, keyId: string, limits: { tenant?: RateLimitValues; key?: RateLimitValues }): RateLimiter[] {
  const out: RateLimiter[] = [];
  const scopes: Array<[string, string, RateLimitValues | undefined]> = [
    ["tenant", `rl:t:${tenantId}`, limits.tenant],
    ["key", `rl:k:${tenantId}:${keyId}`, limits.key],
  ];
  for (const [scope, base, values] of scopes) {
    for (const field of RATE_FIELDS) {
      const limit = values?.[field];
      if (limit === undefined || limit <= 0) continue;
      const f = FIELD[field];
      out.push({ key: `${base}:${f.short}`, kind: f.kind, limit, periodMs: f.periodMs, name: `${scope}:${field}` });
    }
  }
  return out;
}

export interface GcraStep {
  allowed: boolean;
  /** The TAT to store when every limiter allows. */
  newTat: number;
  /** Left after this request (allowed) or now (refused). */
  remaining: number;
  /** Until the limiter is full again. */
  resetMs: number;
  /** Refused: until this request would fit. */
  retryAfterMs: number;
}

/** One GCRA step; `tat` undefined = never used (or expired). Same arithmetic as the Lua script. */
export function gcra(tat: number | undefined, now: number, cost: number, limit: number, periodMs: number): GcraStep {
  const t = periodMs / limit;
  const base = Math.max(tat ?? now, now);
  const newTat = base + cost * t;
  const allowed = newTat - now <= periodMs;
  const after = allowed ? newTat : base;
  return {
    allowed,
    newTat,
    remaining: Math.max(0, Math.floor((periodMs - (after - now)) / t)),
    resetMs: Math.max(0, Math.ceil(after - now)),
    retryAfterMs: allowed ? 0 : Math.ceil(newTat - periodMs - now),
  };
}

/** Picks, per kind, the limiter with the least left: what the x-ratelimit-* headers report. */
export function statusOf(limiters: readonly RateLimiter[], steps: readonly GcraStep[]): RateStatus {
  const s: RateStatus = { ...NO_RATE_STATUS };
  let minReq = Infinity;
  let minTok = Infinity;
  limiters.forEach((l, i) => {
    const st = steps[i];
    if (!st) return;
    if (l.kind === "requests" && st.remaining < minReq) {
      minReq = st.remaining;
      Object.assign(s, { limitRequests: l.limit, remainingRequests: st.remaining, resetRequestsMs: st.resetMs });
    }
    if (l.kind === "tokens" && st.remaining < minTok) {
      minTok = st.remaining;
      Object.assign(s, { limitTokens: l.limit, remainingTokens: st.remaining, resetTokensMs: st.resetMs });
    }
  });
  return s;
}

/** The refusal, if any limiter refuses: the longest wait, named by the limiter that needs it. */
export function refusalOf(limiters: readonly RateLimiter[], steps: readonly GcraStep[]): RateRefusal | undefined {
  let worst: RateRefusal | undefined;
  limiters.forEach((l, i) => {
    const st = steps[i];
    if (!st || st.allowed) return;
    if (!worst || st.retryAfterMs > worst.retryAfterMs) worst = { retryAfterMs: st.retryAfterMs, refusedBy: l.name };
  });
  return worst;
}

/** The cost a limiter charges for one admission. */
export const costOf = (l: RateLimiter, tokens: number): number => (l.kind === "requests" ? 1 : tokens);
