// Shadow test results in PostgreSQL (PGlite embedded), and the daily shadow-spend cap.
import type { SqlClient } from "#libs/sql/sql-client.ts";
import { wilsonInterval } from "#libs/stats/binomial.ts";
import { similarityCuts, type SimilarityCut } from "#libs/stats/similarity-cuts.ts";
import { DEFAULT_DOWNGRADE_POLICY, wilsonLower, type DowngradePolicy, type Finding } from "../domain/downgrade.ts";

// A cache audit that bars its entry: refuted, naming the entry and its similarity, and not a case where the
// judge also rejected the cached answer for its own question (that says nothing about the similarity).
const REFUTED_ENTRY = "NOT ok AND cache_entry IS NOT NULL AND cache_similarity IS NOT NULL AND (cache_baseline_ok IS NULL OR cache_baseline_ok)";

export interface ShadowResultRow {
  requestId: string;
  candidateModel: string;
  tenantId: string;
  category: string;
  tier: string;
  servedModel: string;
  ok: boolean;
  score: number;
  failures: string[];
  /** Every scorer's verdict, as recorded. */
  verdicts: unknown[];
  /** Null when the candidate model has no price (unknown, never 0). */
  candidateCostUsd: string | null;
  /**
   * "down" (default): downgrade evidence; "up": a canary's answer against the live version's model;
   * "cache": a semantic cache hit's cached answer against a fresh one of its model.
   */
  direction?: ShadowDirection;
  /** A cache audit's hit similarity. */
  cacheSimilarity?: number;
  /** A cache audit's baseline verdict: the cached answer against a fresh answer to its own question. */
  cacheBaselineOk?: boolean;
  /** A cache audit's entry: the cached entry that served the hit. */
  cacheEntry?: string;
  policyVersion?: number;
  policyCanary?: boolean;
  /** The prompt as the classifier sees it, for `train:router --shadow` (absent when not kept). */
  input?: ShadowInput;
}

export type ShadowDirection = "down" | "up" | "cache";

export interface ShadowInput {
  messages: { role: string; content: string }[];
  has_tools: boolean;
  json_mode: boolean;
}

/** Pass rate of one policy arm's shadow tests in one direction, with its Wilson 95% interval. */
export interface PolicyQualityRow {
  policyVersion: number;
  canary: boolean;
  direction: "down" | "up";
  tests: number;
  passes: number;
  passRate: number;
  low: number;
  high: number;
}

/** A cached entry whose hit an audit refuted: the highest similarity at which that happened. */
export interface RefutedCacheEntry {
  tenantId: string;
  entryId: string;
  category: string;
  similarity: number;
}

/** Audited semantic cache hits of one category: the measured wrong-hit rate with its Wilson 95% interval. */
export interface CacheQualityRow {
  category: string;
  audits: number;
  wrong: number;
  wrongHitRate: number;
  low: number;
  high: number;
  /** Audits whose baseline ran, those where the judge rejected the cached answer for its own question, and the upper end of that rate's Wilson 95% interval (0 without baselines). */
  baselineAudits: number;
  baselineWrong: number;
  baselineHigh: number;
  /** Lower end of the baseline's Wilson 95% interval (0 without baselines). */
  baselineLow: number;
  /** Audits at or above each similarity where audits start (hundredths), ascending: see similarityCuts. */
  cuts: SimilarityCut[];
  /** Distinct entries (per tenant) with a refuted hit in this category, counted as refutedEntries chooses them. */
  refutedEntries: number;
}


export class ShadowResultStore {
  constructor(private readonly sql: SqlClient) {}

  async has(requestId: string, candidateModel: string): Promise<boolean> {
    const r = await this.sql.query<{ one: number }>("SELECT 1 AS one FROM shadow_results WHERE request_id = $1 AND candidate_model = $2", [requestId, candidateModel]);
    return r.rows.length > 0;
  }

  /**
   * Takes `usd` of today's shadow budget if it fits under `capUsd` (spent + reserved + usd ≤ cap),
   * atomically: replicas racing for the last dollars cannot both pass. False when it does not fit.
   */
  async reserve(day: string, usd: string, capUsd: string): Promise<boolean> {
    await this.sql.query("INSERT INTO shadow_spend_daily (day) VALUES ($1::date) ON CONFLICT (day) DO NOTHING", [day]);
    const r = await this.sql.query<{ day: string }>(
      "UPDATE shadow_spend_daily SET reserved_usd = reserved_usd + $2::numeric WHERE day = $1::date AND spent_usd + reserved_usd + $2::numeric <= $3::numeric RETURNING day::text",
      [day, usd, capUsd],
    );
    return r.rows.length > 0;
  }

  /** Gives a reservation back (the replay failed and will be retried, or was not needed). */
  async release(day: string, usd: string): Promise<void> {
    await this.sql.query("UPDATE shadow_spend_daily SET reserved_usd = GREATEST(0, reserved_usd - $2::numeric) WHERE day = $1::date", [day, usd]);
  }

  /** Records the verdict and turns the reservation into spend, in one transaction. False if it was already recorded. */
  async record(row: ShadowResultRow, spend: { day: string; reservedUsd: string } | undefined): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const r = await tx.query<{ request_id: string }>(
        `INSERT INTO shadow_results (request_id, candidate_model, tenant_id, category, tier, served_model, ok, score, failures, verdicts, candidate_cost_usd, direction, policy_version, policy_canary, input, cache_similarity, cache_baseline_ok, cache_entry)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11::numeric, $12, $13, $14, $15::jsonb, $16, $17, $18)
         ON CONFLICT (request_id, candidate_model) DO NOTHING RETURNING request_id`,
        [
          row.requestId, row.candidateModel, row.tenantId, row.category, row.tier, row.servedModel, row.ok, row.score,
          JSON.stringify(row.failures), JSON.stringify(row.verdicts), row.candidateCostUsd, row.direction ?? "down",
          row.policyVersion ?? 0, row.policyCanary ?? false, row.input ? JSON.stringify(row.input) : null, row.cacheSimilarity ?? null, row.cacheBaselineOk ?? null,
          row.cacheEntry ?? null,
        ],
      );
      if (spend) {
        await tx.query(
          "UPDATE shadow_spend_daily SET reserved_usd = GREATEST(0, reserved_usd - $2::numeric), spent_usd = spent_usd + $3::numeric WHERE day = $1::date",
          [spend.day, spend.reservedUsd, r.rows.length > 0 ? (row.candidateCostUsd ?? "0") : "0"],
        );
      }
      return r.rows.length > 0;
    });
  }

  async spentToday(day: string): Promise<{ spentUsd: string; reservedUsd: string }> {
    const r = await this.sql.query<{ spent: string; reserved: string }>("SELECT spent_usd::text AS spent, reserved_usd::text AS reserved FROM shadow_spend_daily WHERE day = $1::date", [day]);
    const row = r.rows[0];
    return { spentUsd: row?.spent ?? "0", reservedUsd: row?.reserved ?? "0" };
  }

  /** Per (tenant, category, tier, served → candidate): samples, passes and the Wilson lower bound. */
  async report(tenant: string, policy: DowngradePolicy = DEFAULT_DOWNGRADE_POLICY): Promise<Finding[]> {
    const r = await this.sql.query<{ tenant_id: string; category: string; tier: string; served_model: string; candidate_model: string; n: string; passes: string }>(
      `SELECT tenant_id, category, tier, served_model, candidate_model, count(*)::text AS n, count(*) FILTER (WHERE ok)::text AS passes
       FROM shadow_results WHERE ($1 = '' OR tenant_id = $1) AND direction = 'down'
       GROUP BY tenant_id, category, tier, served_model, candidate_model ORDER BY count(*) DESC`,
      [tenant],
    );
    return r.rows.map((x) => {
      const samples = Number(x.n);
      const passes = Number(x.passes);
      const lb = wilsonLower(passes, samples);
      return { tenant: x.tenant_id, category: x.category, tier: x.tier, from: x.served_model, to: x.candidate_model, samples, passes, passRate: passes / samples, lowerBound: lb, safe: samples >= policy.minSamples && lb >= policy.targetPassRate };
    });
  }

  /** Every result since a time, for the nightly analysis. */
  async since(from: Date): Promise<(ShadowResultRow & { createdAt: Date })[]> {
    const r = await this.sql.query<{ request_id: string; candidate_model: string; tenant_id: string; category: string; tier: string; served_model: string; ok: boolean; score: number; candidate_cost_usd: string | null; created_at: string }>(
      `SELECT request_id, candidate_model, tenant_id, category, tier, served_model, ok, score, candidate_cost_usd::text AS candidate_cost_usd, created_at::text AS created_at
       FROM shadow_results WHERE created_at >= $1 AND direction = 'down' ORDER BY created_at`,
      [from.toISOString()],
    );
    return r.rows.map((x) => ({
      requestId: x.request_id,
      candidateModel: x.candidate_model,
      tenantId: x.tenant_id,
      category: x.category,
      tier: x.tier,
      servedModel: x.served_model,
      ok: x.ok,
      score: Number(x.score),
      failures: [],
      verdicts: [],
      candidateCostUsd: x.candidate_cost_usd,
      createdAt: new Date(x.created_at),
    }));
  }

  /** Shadow pass rates per policy arm and direction since a time: a canary's quality beside the live one's. */
  async policyQuality(from: Date): Promise<PolicyQualityRow[]> {
    const r = await this.sql.query<{ policy_version: string; policy_canary: boolean; direction: string; n: string; passes: string }>(
      `SELECT policy_version::text AS policy_version, policy_canary, direction, count(*)::text AS n, count(*) FILTER (WHERE ok)::text AS passes
       FROM shadow_results WHERE created_at >= $1 AND direction IN ('down', 'up') GROUP BY policy_version, policy_canary, direction ORDER BY policy_version, policy_canary, direction`,
      [from.toISOString()],
    );
    return r.rows.map((x) => {
      const tests = Number(x.n);
      const passes = Number(x.passes);
      const [low, high] = wilsonInterval(passes, tests);
      return { policyVersion: Number(x.policy_version), canary: x.policy_canary, direction: x.direction === "up" ? "up" : "down", tests, passes, passRate: tests > 0 ? passes / tests : 0, low, high };
    });
  }

  /**
   * Audited semantic cache hits since a time, per category (optionally one tenant's): how many, how many
   * were wrong hits, and the wrong-hit rate with its Wilson 95% interval.
   */
  async cacheQuality(from: Date, tenant = ""): Promise<CacheQualityRow[]> {
    const r = await this.sql.query<{ category: string; n: string; wrong: string; base_n: string; base_wrong: string; refuted: string }>(
      `SELECT category, count(*)::text AS n, count(*) FILTER (WHERE NOT ok)::text AS wrong,
         count(cache_baseline_ok)::text AS base_n, count(*) FILTER (WHERE NOT cache_baseline_ok)::text AS base_wrong,
         count(DISTINCT tenant_id || ' ' || cache_entry) FILTER (WHERE ${REFUTED_ENTRY})::text AS refuted
       FROM shadow_results WHERE created_at >= $1 AND direction = 'cache' AND ($2 = '' OR tenant_id = $2)
       GROUP BY category ORDER BY category`,
      [from.toISOString(), tenant],
    );
    // Per hundredth of similarity, rounded down as similarityBucket does: the cuts a floor is chosen from.
    const b = await this.sql.query<{ category: string; hundredths: number; n: string; wrong: string }>(
      `SELECT category, floor(cache_similarity * 100 + 1e-9)::int AS hundredths, count(*)::text AS n, count(*) FILTER (WHERE NOT ok)::text AS wrong
       FROM shadow_results WHERE created_at >= $1 AND direction = 'cache' AND cache_similarity IS NOT NULL AND ($2 = '' OR tenant_id = $2)
       GROUP BY 1, 2`,
      [from.toISOString(), tenant],
    );
    const buckets = new Map<string, { similarity: number; audits: number; wrong: number }[]>();
    for (const x of b.rows) {
      const list = buckets.get(x.category) ?? [];
      list.push({ similarity: Number(x.hundredths) / 100, audits: Number(x.n), wrong: Number(x.wrong) });
      buckets.set(x.category, list);
    }
    return r.rows.map((x) => {
      const audits = Number(x.n);
      const wrong = Number(x.wrong);
      const [low, high] = wilsonInterval(wrong, audits);
      const baselineAudits = Number(x.base_n);
      const baselineWrong = Number(x.base_wrong);
      const [baselineLow, baselineHigh] = baselineAudits > 0 ? wilsonInterval(baselineWrong, baselineAudits) : [0, 0];
      const cuts = similarityCuts(buckets.get(x.category) ?? []);
      return { category: x.category, audits, wrong, wrongHitRate: audits > 0 ? wrong / audits : 0, low, high, baselineAudits, baselineWrong, baselineHigh, baselineLow, cuts, refutedEntries: Number(x.refuted) };
    });
  }

  /**
   * Cached entries whose hits audits refuted since a time (optionally one tenant's), where the judge
   * accepted the cached answer for its own question or no baseline ran (a refutation the judge would
   * also make of an answer to the cached question itself says nothing about the similarity). Per entry
   * the highest refuted similarity, the most recently refuted first, at most `limit`.
   */
  async refutedEntries(from: Date, tenant = "", limit = 10_000): Promise<RefutedCacheEntry[]> {
    const r = await this.sql.query<{ tenant_id: string; cache_entry: string; category: string; similarity: number }>(
      `SELECT tenant_id, cache_entry, max(category) AS category, max(cache_similarity) AS similarity
       FROM shadow_results
       WHERE created_at >= $1 AND direction = 'cache' AND ${REFUTED_ENTRY} AND ($2 = '' OR tenant_id = $2)
       GROUP BY tenant_id, cache_entry ORDER BY max(created_at) DESC, tenant_id, cache_entry LIMIT $3`,
      [from.toISOString(), tenant, limit],
    );
    return r.rows.map((x) => ({ tenantId: x.tenant_id, entryId: x.cache_entry, category: x.category, similarity: Number(x.similarity) }));
  }

  /** Results that kept their prompt, for training the learned router on a tenant's own traffic. */
  async trainingRows(from: Date, tenant = ""): Promise<{ requestId: string; category: string; tier: string; ok: boolean; input: ShadowInput }[]> {
    const r = await this.sql.query<{ request_id: string; category: string; tier: string; ok: boolean; input: unknown }>(
      `SELECT request_id, category, tier, ok, input FROM shadow_results
       WHERE created_at >= $1 AND direction = 'down' AND input IS NOT NULL AND ($2 = '' OR tenant_id = $2) ORDER BY created_at, request_id`,
      [from.toISOString(), tenant],
    );
    return r.rows.map((x) => ({ requestId: x.request_id, category: x.category, tier: x.tier, ok: x.ok, input: (typeof x.input === "string" ? JSON.parse(x.input) : x.input) as ShadowInput }));
  }
}
