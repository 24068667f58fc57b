// Routing policy versions in the database: apply stores a version and makes it live, revert makes an
// earlier one (or none: version 0) live. Reads are one small query, cheap enough to poll.
import { routingOverridesSchema, type RoutingOverride } from "#libs/config/routing-overrides.ts";
import type { SqlClient } from "#libs/sql/sql-client.ts";

export interface LivePolicy {
  /** 0 = no stored version is live. */
  version: number;
  overrides: RoutingOverride[];
  reason: string;
  changedAt: string;
}

/** A version on trial beside the live one. */
export interface CanaryPolicy {
  version: number;
  share: number;
  overrides: RoutingOverride[];
  reason: string;
  startedAt: string;
}

export interface PolicyVersionInfo {
  version: number;
  reason: string;
  createdAt: string;
  overrides: number;
}

export class PolicyStore {
  constructor(private readonly sql: SqlClient) {}

  async live(): Promise<LivePolicy | undefined> {
    const r = await this.sql.query<{ version: string; overrides: unknown; reason: string; changed_at: string }>(
      `SELECT l.version::text AS version, v.overrides, l.reason, l.changed_at::text AS changed_at
       FROM routing_policy_live l JOIN routing_policy_versions v ON v.version = l.version WHERE l.id = 1`,
    );
    const row = r.rows[0];
    if (!row) return undefined;
    const overrides = typeof row.overrides === "string" ? (JSON.parse(row.overrides) as unknown) : row.overrides;
    return { version: Number(row.version), overrides: routingOverridesSchema.parse(overrides), reason: row.reason, changedAt: row.changed_at };
  }

  async canary(): Promise<CanaryPolicy | undefined> {
    const r = await this.sql.query<{ version: string; share: number; overrides: unknown; reason: string; started_at: string }>(
      `SELECT c.version::text AS version, c.share, v.overrides, c.reason, c.started_at::text AS started_at
       FROM routing_policy_canary c JOIN routing_policy_versions v ON v.version = c.version WHERE c.id = 1`,
    );
    const row = r.rows[0];
    if (!row) return undefined;
    const overrides = typeof row.overrides === "string" ? (JSON.parse(row.overrides) as unknown) : row.overrides;
    return { version: Number(row.version), share: Number(row.share), overrides: routingOverridesSchema.parse(overrides), reason: row.reason, startedAt: row.started_at };
  }

  /** Stores a version and puts it on trial for `share` of the sessions; the live version is unchanged. */
  async startCanary(overrides: readonly RoutingOverride[], share: number, reason: string): Promise<number> {
    return this.sql.transaction(async (tx) => {
      const v = await tx.query<{ version: string }>("INSERT INTO routing_policy_versions (overrides, reason) VALUES ($1::jsonb, $2) RETURNING version::text AS version", [JSON.stringify(overrides), reason]);
      const version = Number(v.rows[0]?.version);
      await tx.query(
        "INSERT INTO routing_policy_canary (id, version, share, reason, started_at) VALUES (1, $1, $2, $3, now()) ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, share = EXCLUDED.share, reason = EXCLUDED.reason, started_at = now()",
        [version, share, reason],
      );
      return version;
    });
  }

  /** The canary version becomes live for everyone; false when no canary runs. */
  async promoteCanary(reason: string): Promise<number | undefined> {
    return this.sql.transaction(async (tx) => {
      const c = await tx.query<{ version: string }>("DELETE FROM routing_policy_canary WHERE id = 1 RETURNING version::text AS version");
      const version = c.rows[0] ? Number(c.rows[0].version) : undefined;
      if (version === undefined) return undefined;
      await tx.query(
        "INSERT INTO routing_policy_live (id, version, reason, changed_at) VALUES (1, $1, $2, now()) ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, reason = EXCLUDED.reason, changed_at = now()",
        [version, reason],
      );
      return version;
    });
  }

  /** Ends the trial; the stored version stays in the history. */
  async stopCanary(): Promise<boolean> {
    const r = await this.sql.query<{ version: string }>("DELETE FROM routing_policy_canary WHERE id = 1 RETURNING version::text AS version");
    return r.rows.length > 0;
  }

  async apply(overrides: readonly RoutingOverride[], reason: string): Promise<number> {
    return this.sql.transaction(async (tx) => {
      const v = await tx.query<{ version: string }>("INSERT INTO routing_policy_versions (overrides, reason) VALUES ($1::jsonb, $2) RETURNING version::text AS version", [JSON.stringify(overrides), reason]);
      const version = Number(v.rows[0]?.version);
      await tx.query(
        "INSERT INTO routing_policy_live (id, version, reason, changed_at) VALUES (1, $1, $2, now()) ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, reason = EXCLUDED.reason, changed_at = now()",
        [version, reason],
      );
      return version;
    });
  }

  /** Version 0 removes the live row: the configured overrides apply again. Unknown versions are refused. */
  async revert(version: number, reason: string): Promise<boolean> {
    if (version === 0) {
      await this.sql.query("DELETE FROM routing_policy_live WHERE id = 1");
      return true;
    }
    return this.sql.transaction(async (tx) => {
      const known = await tx.query<{ version: string }>("SELECT version::text AS version FROM routing_policy_versions WHERE version = $1", [version]);
      if (known.rows.length === 0) return false;
      await tx.query(
        "INSERT INTO routing_policy_live (id, version, reason, changed_at) VALUES (1, $1, $2, now()) ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, reason = EXCLUDED.reason, changed_at = now()",
        [version, reason],
      );
      return true;
    });
  }

  async history(limit = 50): Promise<PolicyVersionInfo[]> {
    const r = await this.sql.query<{ version: string; reason: string; created_at: string; n: number }>(
      "SELECT version::text AS version, reason, created_at::text AS created_at, jsonb_array_length(overrides)::int AS n FROM routing_policy_versions ORDER BY version DESC LIMIT $1",
      [limit],
    );
    return r.rows.map((x) => ({ version: Number(x.version), reason: x.reason, createdAt: x.created_at, overrides: Number(x.n) }));
  }
}
