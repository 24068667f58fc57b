// Gateway API keys. Verification goes to the ledger (which stores only hashes); results are cached
// briefly so the hot path does not pay an RPC per request. Revocation takes effect within the TTL.
import type { Client } from "@connectrpc/connect";
import type { LedgerService } from "#libs/gen/llmgw/ledger/v1/ledger_pb.ts";
import { errors } from "#libs/errors/openai-error.ts";

export interface AuthContext {
  keyId: string;
  tenantId: string;
  admin: boolean;
}

/** The caller, who must hold an admin key (403 otherwise). */
export function adminOnly<R>(authenticate: (req: R) => Promise<AuthContext>): (req: R) => Promise<AuthContext> {
  return async (req) => {
    const a = await authenticate(req);
    if (!a.admin) throw errors.forbidden("This route needs an admin key.");
    return a;
  };
}

/** Keys we issue are ~50 characters; anything this long is junk. */
const MAX_KEY_CHARS = 256;

interface Entry {
  auth: AuthContext | null;
  expires: number;
}

export class KeyAuthenticator {
  private readonly cache = new Map<string, Entry>();

  constructor(
    private readonly ledger: Client<typeof LedgerService>,
    private readonly opts: { ttlMs: number; negativeTtlMs: number; maxEntries: number } = { ttlMs: 30_000, negativeTtlMs: 2_000, maxEntries: 10_000 },
  ) {}

  /** Reads `Authorization: Bearer <key>` (or `x-api-key`). Throws 401 in the OpenAI shape. */
  async authenticate(authorization: string | undefined, apiKeyHeader?: string): Promise<AuthContext> {
    const key = bearer(authorization) ?? apiKeyHeader?.trim();
    if (!key) throw errors.unauthorized("You didn't provide an API key. Pass it as 'Authorization: Bearer <key>'.");
    // Longer than any key we issue: refused before it is cached (10,000 cached 16 KB junk keys were 160 MB).
    if (key.length > MAX_KEY_CHARS) throw errors.unauthorized("Incorrect API key provided.");
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.expires > now) {
      if (!hit.auth) throw errors.unauthorized("Incorrect API key provided.");
      return hit.auth;
    }
    const res = await this.ledger.verifyKey({ key });
    const auth = res.valid ? { keyId: res.keyId, tenantId: res.tenantId, admin: res.admin } : null;
    if (this.cache.size >= this.opts.maxEntries) this.cache.clear();
    this.cache.set(key, { auth, expires: now + (auth ? this.opts.ttlMs : this.opts.negativeTtlMs) });
    if (!auth) throw errors.unauthorized("Incorrect API key provided.");
    return auth;
  }

  forget(): void {
    this.cache.clear();
  }

  /** Drops a revoked key from this edge's cache at once (other edges follow within the TTL). */
  forgetKeyId(keyId: string): void {
    for (const [raw, e] of this.cache) if (e.auth?.keyId === keyId) this.cache.delete(raw);
  }
}

function bearer(h: string | undefined): string | undefined {
  if (!h) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(h.trim());
  return m?.[1]?.trim() || undefined;
}
