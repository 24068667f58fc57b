// The per-replica share during a Redis outage, on a fixed clock: limit / replicas per window, refilled
// at that rate; a limit smaller than the replica count admits nothing (the conservative side).
import { describe, expect, it } from "vitest";
import { limitersFor, type RateCharge } from "../domain/rate-limit.ts";
import { OutageRateLimiter } from "./rate-limiter-outage.ts";

let clock = 1_000_000;
const charge = (limits: Parameters<typeof limitersFor>[2], tokens = 0): RateCharge => ({ tokens, limiters: limitersFor("t", "k", limits) });
let seq = 0;
/** One reservation: admitted (and charged) or the refusal's retry-after. */
function ask(l: OutageRateLimiter, rate: RateCharge, replicas: number): { admitted: boolean; retryAfterMs?: number } {
  const r = l.check(`r${++seq}`, rate, replicas);
  if (r.result?.refusal) return { admitted: false, retryAfterMs: r.result.refusal.retryAfterMs };
  r.commit();
  return { admitted: true };
}

describe("rate limits against this replica's share", () => {
  it("N per minute over 2 replicas: a burst of floor(N / 2), then one every 2 × 60 s / N", () => {
    const l = new OutageRateLimiter("local", () => clock);
    const rate = charge({ key: { requests_per_minute: 4 } });
    expect([1, 2, 3].map(() => ask(l, rate, 2).admitted)).toEqual([true, true, false]);
    expect(ask(l, rate, 2).retryAfterMs).toBe(30_000);
    clock += 30_000;
    expect(ask(l, rate, 2).admitted).toBe(true);
    expect(ask(l, rate, 2).admitted).toBe(false);
  });

  it("reports the configured limit, and what is left of the share", () => {
    const l = new OutageRateLimiter("local", () => clock);
    const r = l.check("s1", charge({ tenant: { requests_per_minute: 10, tokens_per_minute: 999 } }, 100), 3);
    expect(r.result?.status).toMatchObject({ limitRequests: 10, remainingRequests: 2, limitTokens: 999, remainingTokens: 233 });
  });

  it("a limit below the replica count admits nothing during the outage", () => {
    const l = new OutageRateLimiter("local", () => clock);
    expect(ask(l, charge({ key: { requests_per_day: 1 } }), 2).admitted).toBe(false);
  });

  it("open admits past the share, uncharged, and counts it", () => {
    const l = new OutageRateLimiter("open", () => clock);
    const rate = charge({ key: { requests_per_minute: 2 } });
    expect([1, 2, 3, 4, 5].every(() => ask(l, rate, 1).admitted)).toBe(true);
    expect(l.admittedOverShare()).toBe(3);
  });
});
