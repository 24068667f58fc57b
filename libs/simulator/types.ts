// Public option and model types of the simulator (re-exported by server.ts).
import type { Replay } from "./replay.ts";

export interface SimModelSpec {
  id: string;
  /** 0..1; a model answers a prompt well when skill >= the prompt's difficulty ([sim:hard] = 0.7). */
  skill: number;
  contextWindow: number;
  /** Reports completion_tokens_details.reasoning_tokens (they count toward completion_tokens). */
  reasoning?: boolean;
  /** Default "chat"; "embedding" models serve /v1/embeddings only. Ids starting "text-embedding" default to it. */
  kind?: "chat" | "embedding";
  /** Embedding vector size (default 1536). */
  dimensions?: number;
}

export interface SimFaultRule {
  /** undefined = any model */
  model?: string;
  status: 429 | 500 | 503 | 400;
  /** how many of the next matching requests fail */
  count: number;
  retryAfterSec?: number;
}

export interface SimulatorOptions {
  port?: number; // default 0 (ephemeral)
  host?: string; // default 127.0.0.1
  latencyMs?: number; // time to first byte, default 0
  tokensPerSecond?: number; // output pacing; 0 or undefined = unlimited
  models?: SimModelSpec[]; // default: DEFAULT_MODELS
  errorRate?: number; // seeded share of 500s, default 0
  seed?: number;
  /** Batches report "completed" once this long has passed since creation (default 0: on the first retrieve). */
  batchDelayMs?: number;
  /**
   * Share (0..1) of batch lines, OpenAI and Anthropic alike, that fail, chosen by a seeded hash of the line's
   * custom_id (simBatchLineFails tells which); default 0. Lines containing "sim-fail" always fail and lines
   * containing "sim-expire" always expire.
   */
  batchFailRate?: number;
  /** Replay mode (replay.ts): recorded benchmark answers for known prompts, from files or an already loaded Replay. */
  replay?: SimReplayOptions | Replay;
}

export interface SimReplayOptions {
  /** RouteLLM router-benchmark JSONL files (GSM8K, MMLU, MT-Bench rows; formats in replay.ts). */
  files: string[];
  /** Models that answer with the recorded "weak" answers. */
  weakModels: string[];
  /** Models that answer with the recorded "strong" answers. */
  strongModels: string[];
}

export interface SimStats {
  requests: number;
  byModel: Record<string, number>;
  /** Replay mode only: requests to mapped models answered from a recorded row (hits) or simulated (misses). */
  replay?: { hits: number; misses: number };
}

export interface Simulator {
  url: string; // OpenAI SDK baseURL = url + "/v1"; Anthropic SDK baseURL = url
  port: number;
  addFault(rule: SimFaultRule): void;
  clearFaults(): void;
  stats(): SimStats;
  /** Chat calls being answered now and the most at once (in-flight.ts). */
  inFlight(): { current: number; max: number };
  resetInFlightMax(): void;
  /** The loaded replay data (replay mode only): rows, and correctnessOf for the answers served. */
  replay?: Replay;
  close(): Promise<void>;
}
