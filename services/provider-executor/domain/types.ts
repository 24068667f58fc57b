// The engine's public vocabulary. ExecSummary / AttemptRecord mirror proto llmgw.executor.v1 Summary / Attempt.
import type OpenAI from "openai";
import type { GatewayError } from "#libs/errors/openai-error.ts";
import type { Usage } from "../providers/types.ts";

export type { Usage };

export interface ExecuteRequest {
  requestId: string;
  /** Ordered by preference; the engine falls back along the list. */
  candidates: { model: string }[];
  /** The client's OpenAI request; `model` is replaced per candidate. */
  body: OpenAI.Chat.ChatCompletionCreateParams;
  stream: boolean;
  /** Whole-request deadline across retries and fallbacks; 0/undefined = configured default. */
  totalTimeoutMs?: number;
  /** Client went away: abort the provider call. */
  signal?: AbortSignal;
}

export type AttemptStatus =
  | "ok"
  | "error"
  | "skipped_breaker_open"
  | "skipped_concurrency"
  | "skipped_unknown_model"
  | "skipped_no_credentials"
  | "skipped_deadline"
  /** Refused by the deployment's live queue (errorCode queue_full or wait_timeout): a 429 unless another candidate answers. */
  | "skipped_queue";

export interface AttemptRecord {
  model: string;
  /** Provider id from config (e.g. "openai", "anthropic", "local"); "" for unknown models. */
  provider: string;
  status: AttemptStatus;
  /** HTTP status the attempt ended with (200 ok; the mapped gateway status on error; 0 when skipped). */
  httpStatus: number;
  errorCode: string;
  latencyMs: number;
  /** What the provider billed for this call (estimated when it never said); null when nothing was sent. */
  usage: Usage | null;
}

export interface ExecSummary {
  model: string;
  provider: string;
  usage: Usage;
  finishReason: string;
  attempts: AttemptRecord[];
  latencyMs: number;
}

export type ExecEvent =
  | { type: "chunk"; chunk: OpenAI.Chat.ChatCompletionChunk }
  | { type: "completion"; completion: OpenAI.Chat.ChatCompletion }
  | { type: "summary"; summary: ExecSummary }
  | { type: "failure"; error: GatewayError; attempts: AttemptRecord[] };

export type BreakerState = "closed" | "open" | "half_open";

export interface DeploymentHealth {
  model: string;
  state: BreakerState;
  inFlight: number;
}
