// Which failures are worth retrying on the same deployment, worth another candidate, or count
// against the deployment's breaker; and how long to wait between retries. Pure.
import type { GatewayError } from "#libs/errors/openai-error.ts";
import { UPSTREAM_CODES } from "../providers/errors.ts";

export interface FailureClass {
  /** Same deployment again after a backoff: transient upstream trouble. */
  retry: boolean;
  /** Another candidate may succeed where this one failed. */
  fallback: boolean;
  /** Counts as a deployment failure for the circuit breaker. */
  breaker: boolean;
}

export function classifyFailure(e: GatewayError): FailureClass {
  if (e.status === 429) return { retry: true, fallback: true, breaker: true };
  if (e.status === 503 || e.status === 504) return { retry: true, fallback: true, breaker: true };
  if (e.status === 502) {
    // A bad key, an unknown model or an empty quota will not heal by retrying; another provider may work.
    const permanent = e.code === UPSTREAM_CODES.auth || e.code === UPSTREAM_CODES.modelNotFound || e.code === UPSTREAM_CODES.quota;
    return { retry: !permanent, fallback: true, breaker: true };
  }
  // The request itself is too big for this model: a larger one may take it.
  if (e.status === 400 && e.code === UPSTREAM_CODES.contextLength) return { retry: false, fallback: true, breaker: false };
  return { retry: false, fallback: false, breaker: false };
}

export interface BackoffOptions {
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the engine falls back instead. */
  maxRetryAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseDelayMs: 250, maxDelayMs: 4_000, maxRetryAfterMs: 5_000 };

/**
 * Delay before retry number `retry` (0-based), or null when the provider asks for a longer wait than we
 * accept. Exponential with full jitter (AWS style), never shorter than the provider's Retry-After.
 */
export function retryDelayMs(retry: number, retryAfterSec: number | undefined, o: BackoffOptions, random: () => number): number | null {
  const ceiling = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** retry);
  const jittered = Math.floor(random() * ceiling);
  if (retryAfterSec === undefined) return jittered;
  const askedMs = Math.ceil(retryAfterSec * 1000);
  if (askedMs > o.maxRetryAfterMs) return null;
  return Math.max(askedMs, jittered);
}
