// Per-instance mutable state of one simulator (tests run many instances side by side, so nothing here is global).
import { isEmbeddingModel } from "./catalogue.ts";
import { FaultBook } from "./faults.ts";
import { PrefixStore } from "./prompt-cache.ts";
import type { Replay } from "./replay.ts";
import type { SimModelSpec, SimStats } from "./types.ts";

export interface StoredFile {
  id: string;
  filename: string;
  purpose: string;
  bytes: number;
  createdAt: number;
  content: Buffer;
}

export interface StoredBatch {
  id: string;
  endpoint: string;
  inputFileId: string;
  completionWindow: string;
  metadata: Record<string, string> | null;
  createdAt: number; // unix seconds
  readyAtMs: number;
  cancelled: boolean;
  /** Set once the batch has been processed. */
  result?: { outputFileId: string | null; errorFileId: string | null; total: number; completed: number; failed: number; completedAt: number; expired: boolean };
}

/** One Anthropic Message Batch request, kept as sent until the batch is processed. */
export interface StoredMessageBatchRequest {
  customId: string;
  params: Record<string, unknown>;
}

/** An Anthropic Message Batch (anthropic-batches.ts); results are JSONL lines once it has ended. */
export interface StoredMessageBatch {
  id: string;
  requests: StoredMessageBatchRequest[];
  createdAtMs: number;
  readyAtMs: number;
  cancelInitiatedAtMs: number | null;
  endedAtMs: number | null;
  counts: { processing: number; succeeded: number; errored: number; canceled: number; expired: number };
  results: string[] | null;
}

export class SimState {
  readonly models = new Map<string, SimModelSpec>();
  readonly faults: FaultBook;
  readonly prefixes = new PrefixStore();
  readonly files = new Map<string, StoredFile>();
  readonly batches = new Map<string, StoredBatch>();
  readonly messageBatches = new Map<string, StoredMessageBatch>();
  requests = 0;
  /** Replay mode: recorded answers for known prompts (set by startSimulator). */
  replay: Replay | undefined;
  private replayHits = 0;
  private replayMisses = 0;
  readonly byModel: Record<string, number> = Object.create(null) as Record<string, number>;
  private counter = 0;
  // Distinguishes ids of simulator instances in one process (ledgers may key on provider ids).
  private readonly tag = Math.floor(Math.random() * 36 ** 4).toString(36).padStart(4, "0");

  constructor(
    models: readonly SimModelSpec[],
    readonly latencyMs: number,
    readonly tokensPerSecond: number,
    errorRate: number,
    readonly seed: number,
    readonly batchDelayMs: number,
    /** Seeded share of batch lines that fail (batch-lines.ts), on top of "sim-fail" markers. */
    readonly batchFailRate = 0,
  ) {
    for (const m of models) this.models.set(m.id, m);
    this.faults = new FaultBook(errorRate, seed);
  }

  /** Counts an inference call (chat, messages, embeddings, batch line) against its model. */
  record(model: string): void {
    this.requests++;
    this.byModel[model] = (this.byModel[model] ?? 0) + 1;
  }

  stats(): SimStats {
    const s: SimStats = { requests: this.requests, byModel: { ...this.byModel } };
    if (this.replay !== undefined) s.replay = { hits: this.replayHits, misses: this.replayMisses };
    return s;
  }

  /** Replay mode: the recorded answer `model` gives to a conversation, or undefined (simulate as usual). */
  replayText(model: string, messages: readonly unknown[]): string | undefined {
    if (this.replay === undefined || this.replay.sideOf(model) === undefined) return undefined;
    const answer = this.replay.answerFor(model, messages);
    if (answer === undefined) this.replayMisses++;
    else this.replayHits++;
    return answer?.text;
  }

  /** Unique ids like "chatcmpl-k3x900000001" without crypto on the hot path. */
  nextId(prefix: string): string {
    this.counter++;
    return `${prefix}${this.tag}${this.counter.toString(36).padStart(8, "0")}`;
  }

  chatModel(id: string): SimModelSpec | undefined {
    const m = this.models.get(id);
    return m !== undefined && !isEmbeddingModel(m) ? m : undefined;
  }
}
