// Rate limits as OpenAI answers them: x-ratelimit-{limit,remaining,reset}-{requests,tokens} on every
// admitted response (from the reservation's status), and a 429 rate_limit_error with Retry-After
// (and retry-after-ms, which the OpenAI SDKs read first) when a limit refuses. Counted by limit.
import { Counter, type Registry } from "prom-client";
import { GatewayError } from "#libs/errors/openai-error.ts";
import type { RateLimitStatus } from "#libs/gen/llmgw/ledger/v1/ledger_pb.ts";

/** OpenAI's reset format (Go durations): "20ms", "1s", "6m0s", "1h2m3.5s". */
export function resetDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total < 1000) return `${total}ms`;
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const s = (total % 60_000) / 1000;
  const sec = `${Number(s.toFixed(3))}s`;
  if (h > 0) return `${h}h${m}m${sec}`;
  if (m > 0) return `${m}m${sec}`;
  return sec;
}

/** Headers for the limits that apply; none when no limit applies to the key or its tenant. */
export function rateLimitHeaders(s: RateLimitStatus | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!s) return out;
  if (s.limitRequests > 0n) {
    out["x-ratelimit-limit-requests"] = String(s.limitRequests);
    out["x-ratelimit-remaining-requests"] = String(s.remainingRequests);
    out["x-ratelimit-reset-requests"] = resetDuration(Number(s.resetRequestsMs));
  }
  if (s.limitTokens > 0n) {
    out["x-ratelimit-limit-tokens"] = String(s.limitTokens);
    out["x-ratelimit-remaining-tokens"] = String(s.remainingTokens);
    out["x-ratelimit-reset-tokens"] = resetDuration(Number(s.resetTokensMs));
  }
  return out;
}

/** The 429 for a reservation a rate limit refused. */
export function rateLimitError(message: string, s: RateLimitStatus | undefined): GatewayError {
  const retryMs = Number(s?.retryAfterMs ?? 1000n);
  return new GatewayError({
    status: 429,
    message: message || "Rate limit reached; try again later.",
    type: "rate_limit_error",
    code: "rate_limit_exceeded",
    retryAfterSec: Math.max(1, Math.ceil(retryMs / 1000)),
    headers: { ...rateLimitHeaders(s), "retry-after-ms": String(Math.max(0, retryMs)) },
  });
}

const counters = new WeakMap<Registry, Counter<"scope" | "limit">>();

/** llmgw_rate_limit_refusals_total{scope="key|tenant", limit="requests_per_minute|..."}. */
export function rateLimitRefusals(registry: Registry): Counter<"scope" | "limit"> {
  let c = counters.get(registry);
  if (!c) {
    c = new Counter({ name: "llmgw_rate_limit_refusals_total", help: "Requests refused by a rate limit, by scope (tenant or key) and limit", labelNames: ["scope", "limit"], registers: [registry] });
    counters.set(registry, c);
  }
  return c;
}

export function countRefusal(registry: Registry, refusedBy: string): void {
  const [scope = "key", limit = "unknown"] = refusedBy.split(":");
  rateLimitRefusals(registry).inc({ scope, limit });
}
