import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { luaScript } from "#libs/redis/lua-script.ts";
import type { PurgeFilter } from "./exact-store.ts";
import { filterMatches, type SemanticEntryStore } from "./semantic-entries.ts";
import { decodeEntry, encodeEntry, type SemanticEntry, type TextSeal } from "./semantic-entry.ts";

/**
 * Semantic entries in Redis beside the exact layer: one key per entry (the encoded entry, PX TTL of
 * its answer) and one sorted set per tenant (entry ids by creation time) that lists them for rebuild
 * and bounds them: past `maxEntriesPerTenant` the oldest go, in the same script that adds; and one
 * set of the tenants that have entries, which a rebuild walks. All of a tenant's keys share the `{tenantHash}` hash tag (one cluster slot), as the exact store's do.
 */
const PUT_SCRIPT = luaScript(`
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
local over = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[5])
if over > 0 then
  local old = redis.call('ZPOPMIN', KEYS[1], over)
  for i = 1, #old, 2 do redis.call('DEL', ARGV[6] .. old[i]) end
end
return 1`);

const PAGE = 500;

function short(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

export class RedisSemanticEntries implements SemanticEntryStore {
  readonly kind = "redis";

  constructor(
    private readonly redis: Redis,
    private readonly o: { prefix?: string; maxEntriesPerTenant?: number; seal?: TextSeal; now?: () => number } = {},
  ) {}

  private get prefix(): string {
    return `${this.o.prefix ?? "llmgw:cache"}:sv`;
  }

  private get tenantsKey(): string {
    return `${this.prefix}:tenants`;
  }

  private setKey(tenant: string): string {
    return `${this.prefix}:{${short(tenant)}}:z`;
  }

  private entryPrefix(tenant: string): string {
    return `${this.prefix}:{${short(tenant)}}:v:`;
  }

  async put(entry: SemanticEntry, ttlMs: number): Promise<void> {
    if (ttlMs <= 0) return;
    const t = entry.partition.tenant;
    const bytes = Buffer.from(encodeEntry(entry, this.o.seal));
    const max = this.o.maxEntriesPerTenant ?? 1_000_000_000;
    await Promise.all([
      PUT_SCRIPT.run(this.redis, 2, this.setKey(t), this.entryPrefix(t) + entry.meta.id, bytes, Math.max(1, Math.round(ttlMs)), entry.meta.createdAt, entry.meta.id, max, this.entryPrefix(t)),
      // The tenants with entries, so a rebuild never SCANs the whole keyspace (exact answers, budgets...).
      this.redis.sadd(this.tenantsKey, short(t)),
    ]);
  }

  async remove(tenant: string, id: string): Promise<void> {
    await this.redis.multi().del(this.entryPrefix(tenant) + id).zrem(this.setKey(tenant), id).exec();
  }

  async drop(tenant: string, filter: PurgeFilter): Promise<number> {
    const all = filter.namespace === undefined && filter.model === undefined && filter.createdBefore === undefined;
    if (all) {
      // The whole tenant: no need to read the entries, only to list them.
      const ids = await this.redis.zrange(this.setKey(tenant), 0, -1);
      for (let i = 0; i < ids.length; i += PAGE) await this.redis.del(...ids.slice(i, i + PAGE).map((id) => this.entryPrefix(tenant) + id));
      await this.redis.del(this.setKey(tenant));
      return ids.length;
    }
    let n = 0;
    await this.pages(tenant, async (ids, values) => {
      const doomed: string[] = [];
      values.forEach((raw, i) => {
        // The header is readable without the seal (only the text is sealed).
        const entry = raw ? decodeEntry(raw) : undefined;
        if (!entry || filterMatches(entry, filter)) doomed.push(ids[i] as string);
        if (entry && filterMatches(entry, filter)) n++;
      });
      if (doomed.length > 0) await this.redis.multi().del(...doomed.map((id) => this.entryPrefix(tenant) + id)).zrem(this.setKey(tenant), ...doomed).exec();
    });
    return n;
  }

  async load(visit: (entry: SemanticEntry) => void): Promise<number> {
    let n = 0;
    const now = (this.o.now ?? Date.now)();
    for (const h of await this.redis.smembers(this.tenantsKey)) {
      const setKey = `${this.prefix}:{${h}}:z`;
      const entryPrefix = `${this.prefix}:{${h}}:v:`;
      const listed = await this.pagesOf(setKey, entryPrefix, async (ids, values) => {
        const gone: string[] = [];
        values.forEach((raw, i) => {
          const entry = raw ? decodeEntry(raw, this.o.seal) : undefined;
          if (!raw) gone.push(ids[i] as string);
          else if (entry && entry.meta.expiresAt > now) {
            visit(entry);
            n++;
          }
        });
        // Members whose entry aged out (TTL) leave the set.
        if (gone.length > 0) await this.redis.zrem(setKey, ...gone);
      });
      // A tenant whose entries all aged out leaves the list (its next store adds it back).
      if (listed === 0) await this.redis.srem(this.tenantsKey, h);
    }
    return n;
  }

  private pages(tenant: string, fn: (ids: string[], values: (Buffer | null)[]) => Promise<void>): Promise<number> {
    return this.pagesOf(this.setKey(tenant), this.entryPrefix(tenant), fn);
  }

  /** The set's members oldest first, PAGE at a time, with their entries' bytes. */
  private async pagesOf(setKey: string, entryPrefix: string, fn: (ids: string[], values: (Buffer | null)[]) => Promise<void>): Promise<number> {
    const ids = await this.redis.zrange(setKey, 0, -1);
    for (let i = 0; i < ids.length; i += PAGE) {
      const page = ids.slice(i, i + PAGE);
      const values = await this.redis.mgetBuffer(...page.map((id) => entryPrefix + id));
      await fn(page, values);
    }
    return ids.length;
  }
}
