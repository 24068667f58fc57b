// Which policy arm a request falls in while a canary runs: a split within every tenant, sticky per
// session (every turn of a conversation sees one policy, so its prompt cache and its answers stay
// consistent); a request without a session is placed by its own id.
import type { RoutingOverride } from "#libs/config/routing-overrides.ts";

export interface PolicyArm {
  /** 0 = the configured overrides. */
  version: number;
  canary: boolean;
  overrides: readonly RoutingOverride[];
}

/**
 * FNV-1a (32 bit) with murmur3's final mix (FNV alone keeps keys that differ early correlated),
 * scaled to [0, 1): stable across processes and replicas, cheap per request.
 */
export function unitHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

export function inCanary(share: number, tenantId: string, sessionId: string, requestId: string): boolean {
  if (share <= 0) return false;
  if (share >= 1) return true;
  return unitHash(`${tenantId}\u0000${sessionId || `req:${requestId}`}`) < share;
}
