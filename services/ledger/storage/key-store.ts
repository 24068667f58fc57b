import { createHash, randomBytes } from "node:crypto";
import type { SqlClient } from "#libs/sql/sql-client.ts";

export const KEY_PREFIX = "llmgw-";
const DISPLAY_PREFIX_LEN = 12;

export interface KeyInfo {
  keyId: string;
  tenantId: string;
  name: string;
  admin: boolean;
  /** First characters of the key, for display. */
  prefix: string;
  createdAt: string;
  revoked: boolean;
}

export interface VerifiedKey {
  valid: boolean;
  keyId: string;
  tenantId: string;
  admin: boolean;
}

export const hashKey = (raw: string): string => createHash("sha256").update(raw).digest("hex");
export const generateKey = (): string => KEY_PREFIX + randomBytes(32).toString("base64url");

type KeyRow = { id: string; tenant_id: string; name: string; admin: boolean; prefix: string; created_at: Date | string; revoked_at: Date | string | null };

const toInfo = (r: KeyRow): KeyInfo => ({
  keyId: r.id,
  tenantId: r.tenant_id,
  name: r.name,
  admin: r.admin,
  prefix: r.prefix,
  createdAt: new Date(r.created_at).toISOString(),
  revoked: r.revoked_at !== null,
});

const INVALID: VerifiedKey = { valid: false, keyId: "", tenantId: "", admin: false };

/** API keys: only the sha256 of a key is stored; the raw key is returned once, at creation. */
export class KeyStore {
  constructor(private readonly sql: SqlClient) {}

  async create(opts: { tenantId: string; name?: string; admin?: boolean; key?: string }): Promise<{ keyId: string; key: string }> {
    const key = opts.key ?? generateKey();
    if (key.length < 16) throw new Error("API key too short (min 16 characters)");
    const keyId = `key_${randomBytes(8).toString("hex")}`;
    await this.sql.transaction(async (tx) => {
      await tx.query("INSERT INTO tenants (id, name) VALUES ($1, $1) ON CONFLICT (id) DO NOTHING", [opts.tenantId]);
      await tx.query(
        "INSERT INTO api_keys (id, tenant_id, key_hash, prefix, name, admin) VALUES ($1, $2, $3, $4, $5, $6)",
        [keyId, opts.tenantId, hashKey(key), key.slice(0, DISPLAY_PREFIX_LEN), opts.name ?? "", opts.admin ?? false],
      );
    });
    return { keyId, key };
  }

  async verify(raw: string): Promise<VerifiedKey> {
    if (!raw) return INVALID;
    const { rows } = await this.sql.query<{ id: string; tenant_id: string; admin: boolean }>(
      "SELECT id, tenant_id, admin FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
      [hashKey(raw)],
    );
    const r = rows[0];
    return r ? { valid: true, keyId: r.id, tenantId: r.tenant_id, admin: r.admin } : INVALID;
  }

  /** All keys, or one tenant's keys, newest first. */
  async list(tenantId?: string): Promise<KeyInfo[]> {
    const { rows } = tenantId
      ? await this.sql.query<KeyRow>("SELECT * FROM api_keys WHERE tenant_id = $1 ORDER BY created_at DESC, id", [tenantId])
      : await this.sql.query<KeyRow>("SELECT * FROM api_keys ORDER BY created_at DESC, id");
    return rows.map(toInfo);
  }

  async revoke(keyId: string): Promise<boolean> {
    const { rows } = await this.sql.query<{ id: string }>(
      "UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id",
      [keyId],
    );
    return rows.length > 0;
  }

  /**
   * First start: makes sure an admin key exists. With `raw` (e.g. LLMGW_ADMIN_KEY) that exact key
   * is created unless already present; without, a random admin key is created if no live admin
   * key exists. Returns the key only when it was created now (print it once).
   */
  async ensureBootstrapKey(raw?: string, tenantId = "default"): Promise<{ keyId: string; key: string } | undefined> {
    if (raw) {
      const existing = await this.sql.query<{ id: string }>("SELECT id FROM api_keys WHERE key_hash = $1", [hashKey(raw)]);
      if (existing.rows.length > 0) return undefined;
      return this.create({ tenantId, name: "bootstrap admin", admin: true, key: raw });
    }
    const admins = await this.sql.query<{ id: string }>("SELECT id FROM api_keys WHERE admin AND revoked_at IS NULL LIMIT 1");
    if (admins.rows.length > 0) return undefined;
    return this.create({ tenantId, name: "bootstrap admin", admin: true });
  }
}
