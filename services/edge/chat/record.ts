// The one record a chat request carries through the pipeline's steps and after-answer hooks.
import type OpenAI from "openai";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CacheControl, CacheKeySchema, LookupResponse } from "#libs/gen/llmgw/cache/v1/cache_pb.ts";
import type { ClassifyResponse } from "#libs/gen/llmgw/classifier/v1/classifier_pb.ts";
import type { RequestContextSchema, Usage } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import type { RouteResponse } from "#libs/gen/llmgw/router/v1/router_pb.ts";
import type { RateLimitStatus } from "#libs/gen/llmgw/ledger/v1/ledger_pb.ts";
import type { AuthContext } from "../auth.ts";
import type { RunResult } from "../execution.ts";
import type { RequestFacts } from "../messages.ts";

export interface ChatCall {
  requestId: string;
  traceId: string;
  receivedAt: Date;
  /** performance.now() when the request arrived, for overhead. */
  t0: number;
  auth: AuthContext;
  body: OpenAI.Chat.ChatCompletionCreateParams;
  cacheControl: CacheControl;
  sessionId: string;
  signal?: AbortSignal;
}

export type ChatResult =
  // bodyJson: the executor's JSON of `body` when it has it (what serializing `body` would give): sent as is.
  | { type: "json"; headers: Record<string, string>; body: OpenAI.Chat.ChatCompletion; bodyJson?: Uint8Array }
  // promptTokens: the gateway's prompt estimate (what routing used), for APIs that report input up front.
  | { type: "stream"; headers: Record<string, string>; chunks: AsyncIterable<string>; promptTokens: () => number };

export type RequestContextInit = MessageInitShape<typeof RequestContextSchema>;
export type CacheKeyInit = MessageInitShape<typeof CacheKeySchema>;
export type CacheOutcome = "hit_exact" | "hit_semantic" | "miss" | "bypass";

/** Filled in step by step; later steps and hooks read what earlier ones wrote. */
export interface ChatRecord {
  call: ChatCall;
  ctx: RequestContextInit;
  /** The client named an alias ("auto"): the gateway routes. */
  alias: boolean;
  facts: RequestFacts;
  /**
   * The one prompt-size estimate: routing (context windows) and budget reservation use it. Made on
   * first use, so a cache hit never tokenizes a long prompt.
   */
  promptTokens: () => number;
  cls: ClassifyResponse;
  cacheKey: CacheKeyInit;
  cacheOutcome: CacheOutcome;
  lookup?: LookupResponse;
  route?: RouteResponse;
  /** A budget reservation (id = request id) is held. */
  reserved: boolean;
  /** The rate limits' status the reservation reported (x-ratelimit-* headers). */
  rateLimit?: RateLimitStatus;
  /** The outcome went to the hooks (its RequestCompleted settles or releases the reservation). */
  finished?: boolean;
  /**
   * Set while `cls` (and the cache key made from it) is a placeholder: a named model's class is read
   * only by the after-answer hooks, so it is made just before they run. Resolves once `cls` is real.
   */
  classifyLater?: (() => Promise<void>) | undefined;
  /** The hooks of this request ran (or failed), when they waited for something (unit tests await it). */
  hooksDone?: Promise<void> | undefined;
}

/** How the request ended, for the after-answer hooks. */
export interface ChatOutcome {
  status: number;
  errorCode: string;
  runs: RunResult[];
  escalated: boolean;
  overheadMs: number;
  totalMs: number;
  /** Streams: ms from arrival to the first token the client could read (time to first token). */
  firstTokenMs?: number;
  stream: boolean;
  model: string;
  provider: string;
  /** Provider cost as priced at the edge (headers, metrics); the ledger prices it again as the truth. */
  costUsd?: string;
  completion?: OpenAI.Chat.ChatCompletion;
  /** The executor's JSON of `completion` when it came as one (JSON answers): the hooks reuse it. */
  completionJson?: Uint8Array;
  /** Usage of the call whose answer was served (it prices the baseline). */
  answerUsage?: Usage;
}
