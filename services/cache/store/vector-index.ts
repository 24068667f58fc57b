/** Nearest-neighbour index contract shared by the in-process index and the Qdrant adapter. */
import type { PurgeFilter } from "./exact-store.ts";

export interface VectorPartition {
  tenant: string;
  /** Invalidation handle inside the tenant (scope by default). */
  namespace: string;
  /** Exact-match part of the semantic key: scope, system prompt, earlier turns, params, embedder. */
  key: string;
}

export interface VectorEntryMeta {
  /** Exact-layer key of the stored answer; also the entry id (one vector per stored request). */
  id: string;
  /** The normalised last user message, for the precision guard. */
  text: string;
  createdAt: number;
  expiresAt: number;
  /** Model of the stored answer, so invalidation by model reaches the vector too. */
  model?: string;
}

export interface VectorMatch {
  meta: VectorEntryMeta;
  score: number;
}

export interface VectorIndex {
  readonly kind: string;
  /** In-process index: CPU-bound, the time budget cannot preempt it (bound its size instead). */
  readonly local?: boolean;
  upsert(partition: VectorPartition, meta: VectorEntryMeta, vector: Float32Array): Promise<void>;
  /** Top-k by cosine (vectors are normalised), best first, expired entries excluded. */
  search(partition: VectorPartition, vector: Float32Array, k: number, now: number): Promise<VectorMatch[]>;
  remove(partition: VectorPartition, id: string): Promise<void>;
  /** Drops a tenant's entries, or one namespace of them; returns how many were dropped. */
  invalidate(tenant: string, namespace?: string): Promise<number>;
  /** Drops a tenant's entries matching a model / age / namespace filter (indexes that keep the model). */
  purge?(tenant: string, filter: PurgeFilter): Promise<number>;
  /** Entries held in this process (in-process indexes), for the index-size gauge. */
  size?(): number;
  /** Loads what the index must hold before serving (a shared index rebuilding from its store). */
  start?(): Promise<void>;
  /** Stops following other replicas and flushes pending writes. */
  close?(): Promise<void>;
}
