import type { CachedAnswer } from "../domain/types.ts";

/** Answer store keyed by the exact request hash; also holds answers that semantic entries point to. */
export interface ExactStore {
  readonly kind: string;
  /** In-process store: no I/O to wait for, so the engine does not race it against the time budget. */
  readonly local?: boolean;
  get(tenant: string, namespace: string, key: string): Promise<CachedAnswer | undefined>;
  set(tenant: string, namespace: string, key: string, answer: CachedAnswer, ttlMs: number): Promise<void>;
  delete(tenant: string, namespace: string, key: string): Promise<void>;
  /**
   * Drops a tenant's entries, or one namespace of them. Returns the number dropped when the store can
   * count them cheaply, else 0 (the Redis store bumps a generation: O(1), old keys age out by TTL).
   */
  invalidate(tenant: string, namespace?: string): Promise<number>;
  /**
   * Deletes a tenant's entries that match every given field (answers of one model, answers stored
   * before a time, optionally in one namespace) by visiting them; returns how many went.
   */
  purge(tenant: string, filter: PurgeFilter): Promise<number>;
}

export interface PurgeFilter {
  namespace?: string;
  model?: string;
  /** Epoch ms: entries created before it go. */
  createdBefore?: number;
}

export function purgeMatches(answer: CachedAnswer, filter: PurgeFilter): boolean {
  if (filter.model !== undefined && answer.model !== filter.model) return false;
  if (filter.createdBefore !== undefined && !(answer.createdAt < filter.createdBefore)) return false;
  return true;
}

export function encodeAnswer(answer: CachedAnswer): string {
  return JSON.stringify(answer);
}

export function decodeAnswer(raw: string): CachedAnswer | undefined {
  try {
    const v: unknown = JSON.parse(raw);
    if (v && typeof v === "object" && "completionJson" in v && "model" in v && "createdAt" in v) {
      const { completionJson, model, createdAt } = v;
      if (typeof completionJson === "string" && typeof model === "string" && typeof createdAt === "number") {
        return { completionJson, model, createdAt };
      }
    }
  } catch {
    // A corrupt entry is a miss, never an error for the request.
  }
  return undefined;
}
