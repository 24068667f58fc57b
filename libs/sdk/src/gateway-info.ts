// What the gateway tells about one call: from the x-llmgw-* response headers, and for a stream from
// the `llmgw` field of its last chunk (a stream's headers leave before its cost is known).

export type CacheOutcome = "hit_exact" | "hit_semantic" | "miss" | "bypass";

export interface GatewayInfo {
  /** The gateway's request id (the ledger's key for this call). */
  requestId: string;
  /** The model that answered (after routing), or the embedding model. */
  model: string;
  /** Routing tier ("LOW", "MEDIUM", "HIGH", "AGENTIC"); null where none applies (embeddings). */
  tier: string | null;
  cache: CacheOutcome | null;
  /** USD as exact decimal strings; null when not known (a stream before its end). */
  costUsd: string | null;
  /** What the answer would have cost on the baseline model (the reference for routed requests). */
  baselineUsd: string | null;
  savingsUsd: string | null;
  /** A model without a known price took part: costUsd is a lower bound. */
  unpriced: boolean;
  routeReasons: string[];
  /** Time the gateway added on top of provider time (headers only). */
  overheadMs: number | null;
}

/** The shape of a stream's `llmgw` field, as the gateway sends it (the edge builds it with this type). */
export interface GatewayTrailer {
  request_id: string;
  model: string;
  tier: string;
  /** "hit_exact", "hit_semantic", "miss" or "bypass". */
  cache: string;
  cost_usd: string;
  baseline_usd: string;
  savings_usd: string;
  /** A model without a price took part: cost_usd is a lower bound. */
  unpriced: boolean;
  route_reasons: string[];
}

function cacheOf(v: string | null | undefined): CacheOutcome | null {
  if (!v) return null;
  const s = v.replace("-", "_");
  return s === "hit_exact" || s === "hit_semantic" || s === "miss" || s === "bypass" ? s : null;
}

export function infoFromHeaders(h: Headers): GatewayInfo {
  const cost = h.get("x-llmgw-cost-usd");
  const overhead = h.get("x-llmgw-overhead-ms");
  const reasons = h.get("x-llmgw-route-reasons");
  return {
    requestId: h.get("x-llmgw-request-id") ?? "",
    model: h.get("x-llmgw-model") ?? "",
    tier: h.get("x-llmgw-tier") || null,
    cache: cacheOf(h.get("x-llmgw-cache")),
    costUsd: cost === null ? null : cost.replace("+unpriced", ""),
    baselineUsd: h.get("x-llmgw-baseline-usd"),
    savingsUsd: h.get("x-llmgw-savings-usd"),
    unpriced: cost?.endsWith("+unpriced") ?? false,
    routeReasons: reasons ? reasons.split("; ").filter((r) => r.length > 0) : [],
    overheadMs: overhead === null ? null : Number(overhead),
  };
}

function isTrailer(x: unknown): x is GatewayTrailer {
  if (typeof x !== "object" || x === null) return false;
  const t = x as Record<string, unknown>;
  return typeof t["cost_usd"] === "string" && typeof t["model"] === "string";
}

/** The header info completed by a stream's trailer (its cost, baseline and savings). */
export function withTrailer(info: GatewayInfo, trailer: unknown): GatewayInfo {
  if (!isTrailer(trailer)) return info;
  return {
    ...info,
    requestId: trailer.request_id || info.requestId,
    model: trailer.model || info.model,
    tier: trailer.tier || info.tier,
    cache: cacheOf(trailer.cache) ?? info.cache,
    costUsd: trailer.cost_usd,
    baselineUsd: trailer.baseline_usd,
    savingsUsd: trailer.savings_usd,
    unpriced: trailer.unpriced === true,
    routeReasons: Array.isArray(trailer.route_reasons) ? trailer.route_reasons : info.routeReasons,
  };
}
