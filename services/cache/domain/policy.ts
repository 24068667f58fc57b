import type { CacheConfig } from "./config.ts";
import { ttlMsFor } from "./config.ts";
import type { CacheRequest } from "./types.ts";

/** What the engine may do with one request, decided from the request and config alone (pure). */
export interface CachePolicyDecision {
  lookupExact: boolean;
  lookupSemantic: boolean;
  store: boolean;
  storeSemantic: boolean;
  ttlMs: number;
  /** Why lookup or store is off, for the miss reason and metrics. */
  reason?: string;
}

const TOOL_PARAMS = ["tools", "tool_choice", "functions", "function_call"];
const TOOL_ROLES = new Set(["tool", "function"]);

function off(reason: string): CachePolicyDecision {
  return { lookupExact: false, lookupSemantic: false, store: false, storeSemantic: false, ttlMs: 0, reason };
}

export function decidePolicy(req: CacheRequest, config: CacheConfig): CachePolicyDecision {
  if (!config.enabled) return off("disabled");
  if (req.cacheControl === "off") return off("cache-control:off");
  if (req.exactOnly) return exactOnlyPolicy(req, config);
  if (TOOL_PARAMS.some((p) => req.params[p] !== undefined && req.params[p] !== null)) return off("tools");
  if (req.messages.some((m) => TOOL_ROLES.has(m.role))) return off("tool-messages");
  if (config.neverCacheCategories.includes(req.category)) return off(`category:${req.category}`);
  const temperature = req.params["temperature"];
  // Absent temperature is the provider default (1.0 at OpenAI); most clients omit it, so config decides.
  if (typeof temperature === "number" ? temperature > config.maxTemperature : !config.cacheWhenTemperatureAbsent) {
    return off("temperature");
  }
  const n = req.params["n"];
  if (typeof n === "number" && n > 1) return off("n>1");
  const ttlMs = ttlMsFor(config, req.category);
  if (ttlMs <= 0) return off(`ttl:0:${req.category}`);

  const last = req.messages[req.messages.length - 1];
  if (!last || last.role !== "user") return off("last-message-not-user");
  const turns = req.messages.filter((m) => m.role !== "system" && m.role !== "developer").length;
  const multiTurn = turns > 1;
  if (multiTurn && config.multiTurn === "off") return off("multi-turn");
  const semanticAllowed = config.semanticEnabled && !(multiTurn && config.multiTurn === "exact-only");

  const refresh = req.cacheControl === "refresh";
  const noStore = req.cacheControl === "no-store";
  return {
    lookupExact: !refresh,
    lookupSemantic: !refresh && semanticAllowed,
    store: !noStore,
    storeSemantic: !noStore && semanticAllowed,
    ttlMs,
    ...(refresh ? { reason: "cache-control:refresh" } : noStore ? { reason: "cache-control:no-store" } : {}),
  };
}

/** A pure function of its key (embeddings): the exact layer only, TTL by the caller's category. */
function exactOnlyPolicy(req: CacheRequest, config: CacheConfig): CachePolicyDecision {
  const ttlMs = ttlMsFor(config, req.category);
  if (ttlMs <= 0) return off(`ttl:0:${req.category}`);
  const refresh = req.cacheControl === "refresh";
  const noStore = req.cacheControl === "no-store";
  return {
    lookupExact: !refresh,
    lookupSemantic: false,
    store: !noStore,
    storeSemantic: false,
    ttlMs,
    ...(refresh ? { reason: "cache-control:refresh" } : noStore ? { reason: "cache-control:no-store" } : {}),
  };
}
