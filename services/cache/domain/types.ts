/** Public shapes of the cache engine; the gRPC CacheService maps its messages onto these. */

export interface ChatMessageLike {
  role: string;
  content: string;
}

export type CacheControl = "default" | "off" | "refresh" | "no-store";

export interface CacheRequest {
  tenant: string;
  /** Routing tier or concrete model: answers never cross scopes. */
  scope: string;
  messages: ChatMessageLike[];
  /** temperature, top_p, tools, response_format, ... exactly as the client sent them. */
  params: Record<string, unknown>;
  category: string;
  cacheControl: CacheControl;
  /** Invalidation handle inside a tenant; defaults to `scope`. */
  namespace?: string;
  /** Exact layer only, without the chat rules: the answer is a pure function of the key (embeddings). */
  exactOnly?: boolean;
}

export interface CachedAnswer {
  /** The OpenAI chat.completion JSON as it was served. */
  completionJson: string;
  model: string;
  createdAt: number;
}

export type LookupResult =
  | { hit: false; reason: string; layer?: undefined; similarity?: number }
  /**
   * question: on a semantic hit, the text the answer was cached for (its audit's baseline replays it);
   * entryId: the entry that served it (an audit refuting the hit bars that entry, QualityGuard).
   */
  | { hit: true; layer: "exact" | "semantic"; similarity: number; answer: CachedAnswer; question?: string; entryId?: string };

export interface StoreResult {
  stored: boolean;
  reason?: string;
}

export interface Embedder {
  name: string;
  version: string;
  dim: number;
  /** Returns L2-normalised vectors, one per text. */
  embed(texts: string[]): Promise<Float32Array[]>;
}
