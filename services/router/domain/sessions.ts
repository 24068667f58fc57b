// Conversation stickiness: within a session the tier only moves up, and the provider stays the same
// while its prompt cache is warm (providers cache prefixes for ~5 minutes).
import { TIER_NAMES, type TierName } from "#libs/rpc/tier.ts";

export interface SessionState {
  tier: TierName;
  provider: string;
  model: string;
  lastAt: number;
}

export class SessionStore {
  private readonly sessions = new Map<string, SessionState>();

  constructor(
    private readonly opts: { ttlMs: number; warmCacheMs: number; maxSessions: number } = { ttlMs: 6 * 3_600_000, warmCacheMs: 5 * 60_000, maxSessions: 100_000 },
    private readonly now: () => number = Date.now,
  ) {}

  get(id: string): SessionState | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (this.now() - s.lastAt > this.opts.ttlMs) {
      this.sessions.delete(id);
      return undefined;
    }
    return s;
  }

  isWarm(s: SessionState): boolean {
    return this.now() - s.lastAt <= this.opts.warmCacheMs;
  }

  record(id: string, tier: TierName, provider: string, model: string): void {
    if (!id) return;
    if (this.sessions.size >= this.opts.maxSessions && !this.sessions.has(id)) {
      // Drop the oldest entry (Map keeps insertion order; refreshed entries are re-inserted).
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
    this.sessions.delete(id);
    this.sessions.set(id, { tier, provider, model, lastAt: this.now() });
  }
}

export function maxTier(a: TierName, b: TierName): TierName {
  return TIER_NAMES.indexOf(a) >= TIER_NAMES.indexOf(b) ? a : b;
}
