import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { luaScript } from "#libs/redis/lua-script.ts";
import type { CachedAnswer } from "../domain/types.ts";
import { decodeAnswer, encodeAnswer, purgeMatches, type ExactStore, type PurgeFilter } from "./exact-store.ts";

/**
 * Redis exact store. Invalidation bumps a generation counter (per tenant, and per tenant+namespace)
 * kept in one hash; the generations are part of every entry key, so invalidation is O(1) whatever
 * the tenant's size and stale keys age out by their PX TTL. Reads and writes resolve generations in a
 * Lua script: one round trip. All of a tenant's keys share the `{tenantHash}` hash tag (one cluster slot).
 */
const GET_SCRIPT = luaScript(`
local g = redis.call('HMGET', KEYS[1], '_', ARGV[1])
local key = ARGV[2] .. (g[1] or '0') .. ':' .. (g[2] or '0') .. ':' .. ARGV[3]
return redis.call('GET', key)`);

const SET_SCRIPT = luaScript(`
local g = redis.call('HMGET', KEYS[1], '_', ARGV[1])
local key = ARGV[2] .. (g[1] or '0') .. ':' .. (g[2] or '0') .. ':' .. ARGV[3]
redis.call('SET', key, ARGV[4], 'PX', ARGV[5])
return 1`);

const DEL_SCRIPT = luaScript(`
local g = redis.call('HMGET', KEYS[1], '_', ARGV[1])
local key = ARGV[2] .. (g[1] or '0') .. ':' .. (g[2] or '0') .. ':' .. ARGV[3]
return redis.call('DEL', key)`);

function short(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

export class RedisExactStore implements ExactStore {
  readonly kind = "redis";

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string = "llmgw:cache",
  ) {}

  private genKey(tenant: string): string {
    return `${this.prefix}:{${short(tenant)}}:gen`;
  }

  private entryPrefix(tenant: string, namespace: string): string {
    return `${this.prefix}:{${short(tenant)}}:e:${short(namespace)}:`;
  }

  async get(tenant: string, namespace: string, key: string): Promise<CachedAnswer | undefined> {
    const raw = await GET_SCRIPT.run(this.redis, 1, this.genKey(tenant), `n:${short(namespace)}`, this.entryPrefix(tenant, namespace), key);
    return typeof raw === "string" ? decodeAnswer(raw) : undefined;
  }

  async set(tenant: string, namespace: string, key: string, answer: CachedAnswer, ttlMs: number): Promise<void> {
    if (ttlMs <= 0) return;
    await SET_SCRIPT.run(
      this.redis,
      1,
      this.genKey(tenant),
      `n:${short(namespace)}`,
      this.entryPrefix(tenant, namespace),
      key,
      encodeAnswer(answer),
      Math.max(1, Math.round(ttlMs)),
    );
  }

  async delete(tenant: string, namespace: string, key: string): Promise<void> {
    await DEL_SCRIPT.run(this.redis, 1, this.genKey(tenant), `n:${short(namespace)}`, this.entryPrefix(tenant, namespace), key);
  }

  async invalidate(tenant: string, namespace?: string): Promise<number> {
    await this.redis.hincrby(this.genKey(tenant), namespace === undefined ? "_" : `n:${short(namespace)}`, 1);
    return 0;
  }

  /** SCANs the tenant's (or namespace's) entry keys, reads them in pages and deletes the matching ones. */
  async purge(tenant: string, filter: PurgeFilter): Promise<number> {
    const match = filter.namespace === undefined ? `${this.prefix}:{${short(tenant)}}:e:*` : `${this.entryPrefix(tenant, filter.namespace)}*`;
    let n = 0;
    let cursor = "0";
    do {
      const [next, keys] = await this.redis.scan(cursor, "MATCH", match, "COUNT", 500);
      cursor = next;
      if (keys.length === 0) continue;
      const values = await this.redis.mget(...keys);
      const doomed = keys.filter((_, i) => {
        const raw = values[i];
        const answer = typeof raw === "string" ? decodeAnswer(raw) : undefined;
        return answer !== undefined && purgeMatches(answer, filter);
      });
      if (doomed.length > 0) n += await this.redis.del(...doomed);
    } while (cursor !== "0");
    return n;
  }
}
