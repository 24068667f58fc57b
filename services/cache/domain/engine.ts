import type { ExactStore } from "../store/exact-store.ts";
import type { VectorIndex } from "../store/vector-index.ts";
import { Deadline, settle, withDeadline, type BudgetOutcome } from "./budget.ts";
import { BurstLogger, type WarnLogger } from "./burst-logger.ts";
import { defaultCacheConfig, type CacheConfig } from "./config.ts";
import { exactKey, lastUserText, namespaceOf, semanticPartition } from "./keys.ts";
import type { CacheMetrics } from "./metrics.ts";
import { decidePolicy } from "./policy.ts";
import { SemanticEconomics, type CategoryEconomics } from "./economics.ts";
import { ExclusionRules } from "./privacy/exclusion.ts";
import { QualityGuard } from "./quality-guard.ts";
import { decideSemantic } from "./semantic-decision.ts";
import type { HitVerifier } from "./verifier/hit-verifier.ts";
import type { CachedAnswer, CacheRequest, Embedder, LookupResult, StoreResult } from "./types.ts";

/** The log line of a switch (at most a burst of them: a flapping category must not flood the log). */
export function economicsLog(burst: BurstLogger): (e: CategoryEconomics) => void {
  return (e) => burst.warn({ category: e.category, semanticOn: e.semanticOn, hitRate: e.hitRate, breakEven: e.breakEvenHitRate, lookups: e.lookups }, "semantic cache layer switched for a category");
}

export interface CacheEngineDeps {
  config?: CacheConfig;
  exact: ExactStore;
  /** Omit to run exact-only. */
  vectors?: VectorIndex;
  embedder: Embedder;
  metrics?: CacheMetrics;
  logger?: WarnLogger;
  /** Learned second opinion on semantic candidates; used only when trained for this embedder. */
  verifier?: HitVerifier;
  /** Bound on the audited wrong-hit rate per category (kept current by quality-refresh.ts). */
  quality?: QualityGuard;
  /** The per-category switch (pooled across replicas by economics-sync.ts); else one of its own. */
  economics?: SemanticEconomics;
  /** Wall clock for TTLs (injected in tests). */
  now?: () => number;
}

/**
 * Two-layer cache: exact (hash of the whole normalised request) then semantic (last user message,
 * nearest neighbours inside an exact partition of everything else, then a per-category threshold and
 * the precision guard). Store I/O is best effort inside `storeBudgetMs`; embedding is local CPU time.
 */
export class CacheEngine {
  readonly config: CacheConfig;
  private readonly exact: ExactStore;
  private readonly vectors: VectorIndex | undefined;
  private readonly embedder: Embedder;
  private readonly metrics: CacheMetrics | undefined;
  private readonly burst: BurstLogger;
  private readonly now: () => number;
  private readonly exclusion: ExclusionRules;
  private readonly verifier: HitVerifier | undefined;
  private readonly economics: SemanticEconomics;
  readonly quality: QualityGuard;

  constructor(deps: CacheEngineDeps) {
    this.config = deps.config ?? defaultCacheConfig;
    this.exact = deps.exact;
    this.vectors = deps.vectors;
    this.embedder = deps.embedder;
    this.metrics = deps.metrics;
    this.burst = new BurstLogger(deps.logger);
    this.now = deps.now ?? Date.now;
    this.exclusion = new ExclusionRules(this.config.privacy);
    this.economics = deps.economics ?? new SemanticEconomics(this.config.economics, economicsLog(this.burst));
    this.quality = deps.quality ?? new QualityGuard(this.config.quality);
    const v = deps.verifier;
    this.verifier = v && this.config.verifier.enabled && v.embedderId === this.embedderId ? v : undefined;
  }

  /** Whether the learned verifier takes part in semantic decisions (its weights match this embedder). */
  get verifierActive(): boolean {
    return this.verifier !== undefined;
  }

  get embedderId(): string {
    return `${this.embedder.name}@${this.embedder.version}`;
  }

  async lookup(req: CacheRequest): Promise<LookupResult> {
    const started = performance.now();
    const result = await this.lookupInner(req);
    this.metrics?.lookupSeconds.observe({ result: result.hit ? "hit" : "miss" }, (performance.now() - started) / 1000);
    if (result.hit) {
      this.metrics?.lookups.inc({ layer: result.layer, result: "hit" });
      this.metrics?.similarity.observe({ layer: result.layer }, result.similarity);
    } else {
      this.metrics?.lookups.inc({ layer: "none", result: result.reason.startsWith("skip:") ? "skip" : "miss" });
    }
    return result;
  }

  /** A request tripping a privacy rule is neither read nor written: `skip:private:<rule>`. */
  private excluded(req: CacheRequest): string | undefined {
    if (req.cacheControl === "off") return undefined;
    const rule = this.exclusion.check(req.tenant, req.messages.map((m) => m.content));
    return rule === undefined ? undefined : `private:${rule}`;
  }

  private decide(query: string, candidate: string, score: number, category: string): ReturnType<typeof decideSemantic> {
    const d = decideSemantic(query, candidate, score, category, this.config);
    if (d.accept || !this.verifier) return d;
    const threshold = this.config.verifier.thresholds[category] ?? this.verifier.threshold;
    return this.verifier.decide(query, candidate, score, threshold).accept ? { accept: true } : d;
  }

  private async lookupInner(req: CacheRequest): Promise<LookupResult> {
    const excluded = this.excluded(req);
    if (excluded) return { hit: false, reason: `skip:${excluded}` };
    const policy = decidePolicy(req, this.config);
    if (!policy.lookupExact) return { hit: false, reason: `skip:${policy.reason ?? "policy"}` };
    const deadline = new Deadline(this.config.storeBudgetMs);
    const ns = namespaceOf(req);
    const key = exactKey(req, this.embedder);
    const exact = await this.call(this.exact, "get", deadline, () => this.exact.get(req.tenant, ns, key));
    if (exact.ok && exact.value) return { hit: true, layer: "exact", similarity: 1, answer: exact.value };
    if (!exact.ok) return { hit: false, reason: `exact-store-${exact.kind}` };
    if (!policy.lookupSemantic || !this.vectors) return { hit: false, reason: "exact-miss" };
    if (!this.quality.allows(req.category)) return { hit: false, reason: "semantic-off:quality" };
    if (!this.economics.shouldLookup(req.category)) return { hit: false, reason: "semantic-off:economics" };
    const t0 = performance.now();
    const result = await this.lookupSemantic(req, ns, deadline, this.vectors);
    // Store-side failures say nothing about whether the layer pays.
    if (result.hit || !/^(exact-store|vector-index)-/.test(result.reason)) this.recordEconomics(req.category, result.hit, performance.now() - t0);
    return result;
  }

  private recordEconomics(category: string, hit: boolean, ms: number): void {
    this.economics.record(category, hit, ms);
    this.publishEconomics(category);
  }

  /** Sets a category's economics gauges (after a lookup, and after each sync with the pool). */
  publishEconomics(category: string): void {
    const m = this.metrics;
    if (!m) return;
    const e = this.economics.get(category);
    m.semanticOn.set({ category }, e.semanticOn ? 1 : 0);
    m.semanticHitRate.set({ category }, e.hitRate);
    m.semanticBreakEven.set({ category }, e.breakEvenHitRate);
  }

  /** Whether the economics rest on every replica's lookups (a fresh read of the pool). */
  get economicsPooled(): boolean {
    return this.economics.pooledFresh;
  }

  /**
   * Per category: whether the semantic layer is on, its hit rate and break-even, and whether audits
   * suspended it or set a similarity floor (admin API). A category audits acted on that no lookup has
   * reached yet is listed too.
   */
  economicsSnapshot(): (CategoryEconomics & { qualitySuspended: boolean; qualityFloor: number })[] {
    const out = this.economics.snapshot().map((e) => ({ ...e, qualitySuspended: !this.quality.allows(e.category), qualityFloor: this.quality.floor(e.category) }));
    for (const q of this.quality.snapshot()) {
      if ((q.suspended || q.floor > 0) && !out.some((e) => e.category === q.category)) out.push({ ...this.economics.empty(q.category), qualitySuspended: q.suspended, qualityFloor: q.floor });
    }
    return out;
  }

  private async lookupSemantic(req: CacheRequest, ns: string, deadline: Deadline, vectors: VectorIndex): Promise<LookupResult> {
    const text = lastUserText(req);
    if (text === undefined) return { hit: false, reason: "exact-miss" };
    const [vector] = await this.embedder.embed([text]);
    if (!vector) return { hit: false, reason: "embed-failed" };
    const partition = semanticPartition(req, this.embedder);
    const found = await this.call(vectors, "search", deadline, () =>
      vectors.search(partition, vector, this.config.semanticTopK, this.now()),
    );
    if (!found.ok) return { hit: false, reason: `vector-index-${found.kind}` };
    let reason = "semantic-miss";
    // int8 rows and float rounding can put a cosine a hair past 1: similarities are compared and reported in [-1, 1].
    const matches = found.value.map((m) => (m.score > 1 || m.score < -1 ? { ...m, score: Math.min(1, Math.max(-1, m.score)) } : m));
    const best = matches[0]?.score;
    const floor = this.quality.floor(req.category);
    for (const match of matches) {
      if (match.score < floor) {
        if (reason === "semantic-miss") reason = "below-quality-floor";
        continue;
      }
      const entryFloor = this.quality.entryFloor(req.tenant, match.meta.id);
      if (entryFloor !== undefined && match.score <= entryFloor) {
        if (reason === "semantic-miss") reason = "below-entry-floor";
        continue;
      }
      const decision = this.decide(text, match.meta.text, match.score, req.category);
      if (!decision.accept) {
        if (decision.reason !== "below-threshold") this.metrics?.guardRejections.inc({ check: decision.reason.slice(6) });
        if (reason === "semantic-miss") reason = decision.reason;
        continue;
      }
      const answer = await this.call(this.exact, "get", deadline, () => this.exact.get(req.tenant, ns, match.meta.id));
      if (answer.ok && answer.value) return { hit: true, layer: "semantic", similarity: match.score, answer: answer.value, question: match.meta.text, entryId: match.meta.id };
      if (!answer.ok) return { hit: false, reason: `exact-store-${answer.kind}` };
      // The answer aged out or was evicted: the vector is an orphan.
      void vectors.remove(partition, match.meta.id).catch(() => undefined);
    }
    return best === undefined ? { hit: false, reason } : { hit: false, reason, similarity: best };
  }

  async store(req: CacheRequest, answer: CachedAnswer): Promise<StoreResult> {
    const result = await this.storeInner(req, answer);
    this.metrics?.stores.inc({ result: result.stored ? "stored" : result.reason?.startsWith("failed") ? "failed" : "skipped" });
    return result;
  }

  private async storeInner(req: CacheRequest, answer: CachedAnswer): Promise<StoreResult> {
    const excluded = this.excluded(req);
    if (excluded) return { stored: false, reason: excluded };
    const policy = decidePolicy(req, this.config);
    if (!policy.store) return { stored: false, reason: policy.reason ?? "policy" };
    if (answer.completionJson.length > this.config.maxAnswerChars) return { stored: false, reason: "too-large" };
    const deadline = new Deadline(this.config.storeBudgetMs);
    const ns = namespaceOf(req);
    const key = exactKey(req, this.embedder);
    const put = await this.call(this.exact, "set", deadline, () => this.exact.set(req.tenant, ns, key, answer, policy.ttlMs));
    if (!put.ok) return { stored: false, reason: `failed:exact-store-${put.kind}` };
    const text = lastUserText(req);
    if (!policy.storeSemantic || !this.vectors || text === undefined) return { stored: true };
    const [vector] = await this.embedder.embed([text]);
    if (!vector) return { stored: true, reason: "embed-failed" };
    const vectors = this.vectors;
    const createdAt = this.now();
    const meta = { id: key, text, createdAt, expiresAt: createdAt + policy.ttlMs, model: answer.model };
    const up = await this.call(vectors, "upsert", deadline, () => vectors.upsert(semanticPartition(req, this.embedder), meta, vector));
    return up.ok ? { stored: true } : { stored: true, reason: `exact-only:vector-index-${up.kind}` };
  }

  /**
   * Drops a tenant's entries (or one namespace); returns entries counted as dropped (see
   * ExactStore.invalidate). With a model or an age, only the matching answers go (visited one by one),
   * and their vectors with them where the index keeps the model (else they are orphans that the next
   * lookup meeting them removes).
   */
  async invalidate(opts: { tenant: string; namespace?: string; model?: string; olderThanMs?: number }): Promise<number> {
    if (opts.model !== undefined || opts.olderThanMs !== undefined) {
      const filter = {
        ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
        ...(opts.model !== undefined ? { model: opts.model } : {}),
        ...(opts.olderThanMs !== undefined ? { createdBefore: this.now() - opts.olderThanMs } : {}),
      };
      const [n] = await Promise.all([this.exact.purge(opts.tenant, filter), this.vectors?.purge?.(opts.tenant, filter)]);
      return n;
    }
    const [e, v] = await Promise.all([
      this.exact.invalidate(opts.tenant, opts.namespace),
      this.vectors ? this.vectors.invalidate(opts.tenant, opts.namespace) : Promise.resolve(0),
    ]);
    // Vectors and answers are 1:1; report the larger count since Redis cannot count cheaply.
    return Math.max(e, v);
  }

  private async call<T>(
    store: { kind: string; local?: boolean },
    op: string,
    deadline: Deadline,
    work: () => Promise<T>,
  ): Promise<BudgetOutcome<T>> {
    const out = store.local ? await settle(work) : await withDeadline(deadline, work);
    if (!out.ok) {
      this.metrics?.storeFailures.inc({ store: store.kind, op, kind: out.kind });
      this.burst.warn({ store: store.kind, op, kind: out.kind, err: out.error instanceof Error ? out.error.message : undefined }, "cache backend call failed; serving without cache");
    }
    return out;
  }
}
