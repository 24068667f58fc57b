// Conversation stickiness: within a session the tier only moves up, and the provider stays the same
// while its prompt cache is warm (providers cache prefixes for ~5 minutes).
import { LruMap } from "#libs/collections/lru-map.ts";
import { TIER_NAMES, type TierName } from "#libs/rpc/tier.ts";

export interface SessionState {
  tier: TierName;
  provider: string;
  model: string;
  lastAt: number;
}

export class SessionStore {
  // Oldest recorded first. At least one: a record is always kept, as when the bound was checked before it.
  private readonly sessions: LruMap<string, SessionState>;

  constructor(
    private readonly opts: { ttlMs: number; warmCacheMs: number; maxSessions: number } = { ttlMs: 6 * 3_600_000, warmCacheMs: 5 * 60_000, maxSessions: 100_000 },
    private readonly now: () => number = Date.now,
  ) {
    this.sessions = new LruMap({ max: Math.max(1, opts.maxSessions) });
  }

  get(id: string): SessionState | undefined {
    if (!id) return undefined;
    const s = this.sessions.peek(id);
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
    // Over the bound, the least recently recorded session goes.
    this.sessions.set(id, { tier, provider, model, lastAt: this.now() });
  }
}

export function maxTier(a: TierName, b: TierName): TierName {
  return TIER_NAMES.indexOf(a) >= TIER_NAMES.indexOf(b) ? a : b;
}
