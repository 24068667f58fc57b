import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

/**
 * AES-256-GCM with one key per tenant, derived by HKDF-SHA256 from the configured master key (the
 * tenant id is the HKDF info): a leaked tenant key opens only that tenant's entries, and nothing
 * per tenant needs storing. Sealed text is `v1.<base64url(iv | tag | ciphertext)>`; the tenant is
 * bound as additional data, so an entry copied under another tenant fails to open.
 */
const PREFIX = "v1.";
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class TenantCipher {
  private readonly keys = new Map<string, Buffer>();
  private readonly master: Buffer;

  constructor(masterKey: Buffer) {
    if (masterKey.length < 32) throw new Error("cache master key: at least 32 bytes");
    this.master = masterKey;
  }

  private key(tenant: string): Buffer {
    let k = this.keys.get(tenant);
    if (!k) {
      k = Buffer.from(hkdfSync("sha256", this.master, "llmgw-cache-at-rest", `tenant:${tenant}`, 32));
      // Bounded: a process sees few tenants, but never let a flood of ids grow this without limit.
      if (this.keys.size >= 10_000) this.keys.clear();
      this.keys.set(tenant, k);
    }
    return k;
  }

  seal(tenant: string, plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const c = createCipheriv("aes-256-gcm", this.key(tenant), iv);
    c.setAAD(Buffer.from(tenant, "utf8"));
    const ct = Buffer.concat([c.update(plaintext, "utf8"), c.final()]);
    return PREFIX + Buffer.concat([iv, c.getAuthTag(), ct]).toString("base64url");
  }

  /** The plaintext, or undefined when the text was not sealed for this tenant under this master key. */
  open(tenant: string, sealed: string): string | undefined {
    if (!sealed.startsWith(PREFIX)) return undefined;
    const raw = Buffer.from(sealed.slice(PREFIX.length), "base64url");
    if (raw.length < IV_BYTES + TAG_BYTES) return undefined;
    try {
      const d = createDecipheriv("aes-256-gcm", this.key(tenant), raw.subarray(0, IV_BYTES));
      d.setAAD(Buffer.from(tenant, "utf8"));
      d.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([d.update(raw.subarray(IV_BYTES + TAG_BYTES)), d.final()]).toString("utf8");
    } catch {
      return undefined;
    }
  }
}

/** The master key as configured: 64 hex digits or base64 of at least 32 bytes. */
export function parseMasterKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64,}$/.test(t) ? Buffer.from(t, "hex") : Buffer.from(t, "base64");
  if (key.length < 32) throw new Error("cache master key: 64 hex digits or base64 of at least 32 bytes");
  return key;
}
