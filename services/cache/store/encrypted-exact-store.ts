import type { TenantCipher } from "../domain/privacy/tenant-cipher.ts";
import type { CachedAnswer } from "../domain/types.ts";
import type { ExactStore, PurgeFilter } from "./exact-store.ts";

/**
 * Any exact store with its answers sealed per tenant (AES-256-GCM, tenant-cipher.ts): what Redis (or
 * memory) holds is ciphertext; the model name and creation time stay readable, since invalidation by
 * model and age filters on them and they are not the answer. An entry that does not open (another
 * master key, tampering) is a miss.
 */
export class EncryptedExactStore implements ExactStore {
  readonly kind: string;
  readonly local: boolean | undefined;

  constructor(
    private readonly inner: ExactStore,
    private readonly cipher: TenantCipher,
  ) {
    this.kind = inner.kind;
    this.local = inner.local;
  }

  async get(tenant: string, namespace: string, key: string): Promise<CachedAnswer | undefined> {
    const sealed = await this.inner.get(tenant, namespace, key);
    if (!sealed) return undefined;
    const completionJson = this.cipher.open(tenant, sealed.completionJson);
    return completionJson === undefined ? undefined : { ...sealed, completionJson };
  }

  async set(tenant: string, namespace: string, key: string, answer: CachedAnswer, ttlMs: number): Promise<void> {
    await this.inner.set(tenant, namespace, key, { ...answer, completionJson: this.cipher.seal(tenant, answer.completionJson) }, ttlMs);
  }

  delete(tenant: string, namespace: string, key: string): Promise<void> {
    return this.inner.delete(tenant, namespace, key);
  }

  invalidate(tenant: string, namespace?: string): Promise<number> {
    return this.inner.invalidate(tenant, namespace);
  }

  purge(tenant: string, filter: PurgeFilter): Promise<number> {
    return this.inner.purge(tenant, filter);
  }
}
