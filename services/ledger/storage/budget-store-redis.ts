import type { Redis } from "ioredis";
import type { BudgetState, BudgetStore, LimitsGuard, LimitsVersions, ScopeReservation, StoreReserveResult } from "../domain/budget.ts";
import type { RateCharge } from "../domain/rate-limit.ts";
import { RATE_CHECK, RATE_COMMIT, RATE_SETTLE, rateArgs, rateResult } from "./rate-limit-lua.ts";
import { luaScript } from "#libs/redis/lua-script.ts";

// All keys share one hash tag so the scripts stay valid on Redis Cluster (one slot).
// Reserve: sweep expired reservations, check the caller's limits are current (KEYS[3] holds the
// tenant's limits version; ARGV[6] = the version they were read at, -1 = no check), check every
// scope's hard limit, then reserve in all of them. Outdated limits reserve nothing: {2, '', version}.
// Rate limits run first in the same script (GCRA, domain/rate-limit.ts), on the last m KEYS
// (ARGV[#ARGV] = m): a request refused by a rate limit reserves nothing and charges no limiter,
// {3, '', limiter name, retry-after ms, status}; an admitted one ends its answer with the status.
const RESERVE = luaScript(`
local zset, hk, now, amount, expires, resPrefix, id = KEYS[1], KEYS[2], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local seen = tonumber(ARGV[6])
local expired = redis.call('ZRANGEBYSCORE', zset, '-inf', now, 'LIMIT', 0, 200)
for _, eid in ipairs(expired) do
  local ek = resPrefix .. eid
  local amt = tonumber(redis.call('HGET', ek, 'amount') or '0')
  local keys = redis.call('HGET', ek, 'keys')
  if keys and amt > 0 then
    for k in string.gmatch(keys, '[^\\n]+') do redis.call('DECRBY', k, amt) end
  end
  if keys then
    redis.call('HSET', ek, 'amount', 0)
    redis.call('EXPIRE', ek, 86400)
  end
  redis.call('ZREM', zset, eid)
end
if redis.call('EXISTS', hk) == 1 then return {1, 'ok', ''} end
if seen >= 0 then
  local v = tonumber(redis.call('GET', KEYS[3]) or '0')
  if v ~= seen then return {2, '', tostring(v)} end
end
local m = tonumber(ARGV[#ARGV])
local n = #KEYS - 3 - m
${RATE_CHECK}
local state = 'ok'
for i = 1, n do
  local cur = tonumber(redis.call('GET', KEYS[i + 3]) or '0')
  local hard = tonumber(ARGV[6 + (i - 1) * 3 + 1])
  local soft = tonumber(ARGV[6 + (i - 1) * 3 + 2])
  if hard >= 0 and cur + amount > hard then return {0, 'hard', KEYS[i + 3]} end
  if soft >= 0 and cur + amount > soft then state = 'soft' end
end
local list = {}
local after = {}
for i = 1, n do
  after[i] = redis.call('INCRBY', KEYS[i + 3], amount)
  redis.call('EXPIRE', KEYS[i + 3], tonumber(ARGV[6 + (i - 1) * 3 + 3]))
  list[i] = KEYS[i + 3]
end
redis.call('HSET', hk, 'amount', amount, 'keys', table.concat(list, '\\n'))
redis.call('EXPIRE', hk, 3 * 86400)
redis.call('ZADD', zset, expires, id)
${RATE_COMMIT}
if m > 0 then after[n + 1] = rinfo end
return {1, state, '', unpack(after)}
`);

// Settle: replace the reserved amount by the actual one in every scope. A swept (expired)
// reservation has amount 0, so its late settle adds the actual cost only.
const SETTLE = luaScript(`
local zset, hk, actual, id = KEYS[1], KEYS[2], tonumber(ARGV[1]), ARGV[2]
if redis.call('EXISTS', hk) == 0 then return 0 end
${RATE_SETTLE}
local amt = tonumber(redis.call('HGET', hk, 'amount') or '0')
local keys = redis.call('HGET', hk, 'keys')
local delta = actual - amt
if keys and delta ~= 0 then
  for k in string.gmatch(keys, '[^\\n]+') do
    redis.call('INCRBY', k, delta)
    if redis.call('TTL', k) == -1 then redis.call('EXPIRE', k, 35 * 86400) end
  end
end
redis.call('DEL', hk)
redis.call('ZREM', zset, id)
return 1
`);

/**
 * BudgetStore on Redis: one Lua script per operation, so replicas reserve atomically. Also holds
 * the per-tenant limits versions, so the reservation itself checks limits are current (no extra
 * round trip per admission).
 */
export class RedisBudgetStore implements BudgetStore, LimitsVersions {
  private readonly p: string;

  /** `prefix` isolates deployments and tests; a hash tag is added for Cluster. */
  constructor(
    private readonly redis: Redis,
    prefix = "llmgw:",
    private readonly now: () => number = Date.now,
  ) {
    this.p = `${prefix}{budget}:`;
  }

  private resKey = (id: string): string => `${this.p}res:${id}`;
  private zset = (): string => `${this.p}reservations`;
  counterKey = (k: string): string => `${this.p}c:${k}`;
  private versionKey = (tenantId: string): string => `${this.p}v:${tenantId}`;

  async reserve(id: string, scopes: ScopeReservation[], amount: number, ttlMs: number, guard?: LimitsGuard, rate?: RateCharge): Promise<StoreReserveResult> {
    // Unguarded: KEYS[3] is a placeholder the script does not read (ARGV[6] = -1).
    const vk = guard ? this.versionKey(guard.tenantId) : this.zset();
    const rl = rateArgs(rate, this.rateKey, this.rateNow());
    const keys = [this.zset(), this.resKey(id), vk, ...scopes.map((s) => this.counterKey(s.counterKey)), ...rl.keys];
    const args: Array<string | number> = [this.now(), amount, this.now() + ttlMs, `${this.p}res:`, id, guard?.version ?? -1];
    for (const s of scopes) args.push(s.hardNano ?? -1, s.softNano ?? -1, s.ttlSeconds);
    args.push(...rl.args);
    const r = (await RESERVE.run(this.redis, keys.length, ...keys, ...args)) as [number, string, string, ...Array<number | string>];
    if (r[0] === 2) return { admitted: false, state: "ok", staleVersion: Number(r[2]) };
    const rateOut = rateResult(r, scopes.length);
    if (r[0] === 3) return { admitted: false, state: "ok", rate: rateOut ?? {} };
    const scope = r[2] ? r[2].slice(this.counterKey("").length) : undefined;
    // A new reservation answers every counter's value after it: the replica's last known state for
    // budget admission during a Redis outage (outage_mode local).
    const after = r.length > 3 ? r.slice(3, 3 + scopes.length).map(Number) : undefined;
    return { admitted: r[0] === 1, state: r[1] as BudgetState, ...(scope ? { scope } : {}), ...(after ? { counters: after } : {}), ...(rateOut ? { rate: rateOut } : {}) };
  }

  async settle(id: string, actual: number, actualTokens?: number): Promise<boolean> {
    const r = await SETTLE.run(this.redis, 2, this.zset(), this.resKey(id), actual, id, actualTokens ?? -1, this.rateNow());
    return r === 1;
  }

  /** Gives the amount back, and the token estimate on the token rate limits (nothing was used). */
  release(id: string): Promise<boolean> {
    return this.settle(id, 0, 0);
  }

  /** Rate-limit keys share the budget's hash tag: one script touches both (one Cluster slot). */
  private rateKey = (k: string): string => `${this.p}${k}`;

  /** Rate limits use Redis's clock (-1), one for every replica, unless a test injected a clock. */
  private rateNow(): number {
    return this.now === Date.now ? -1 : this.now();
  }

  async current(counterKey: string): Promise<number> {
    return Number((await this.redis.get(this.counterKey(counterKey))) ?? 0);
  }

  /**
   * One round trip for a replica's view while Redis is up: marks `replicaId` alive, counts the
   * replicas seen within `aliveMs`, and reads the given counters (0 when absent).
   */
  async observe(replicaId: string, counterKeys: readonly string[], aliveMs: number): Promise<{ replicas: number; values: number[] }> {
    const zk = `${this.p}replicas`;
    const now = this.now();
    const m = this.redis.multi().zadd(zk, now, replicaId).zremrangebyscore(zk, "-inf", now - aliveMs).zcard(zk).pexpire(zk, aliveMs * 4);
    if (counterKeys.length > 0) m.mget(...counterKeys.map((k) => this.counterKey(k)));
    const out = await m.exec();
    if (!out) throw new Error("budget observe: transaction aborted");
    for (const [err] of out) if (err) throw err;
    const replicas = Number(out[2]?.[1] ?? 1);
    const raw = counterKeys.length > 0 ? ((out[4]?.[1] as (string | null)[] | undefined) ?? []) : [];
    return { replicas, values: raw.map((v) => Number(v ?? 0)) };
  }

  /** Forgets a replica at shutdown, so the others' share grows back without waiting for it to age out. */
  async leave(replicaId: string): Promise<void> {
    await this.redis.zrem(`${this.p}replicas`, replicaId);
  }

  async version(tenantId: string): Promise<number> {
    return Number((await this.redis.get(this.versionKey(tenantId))) ?? 0);
  }

  async bump(tenantId: string): Promise<void> {
    await this.redis.incr(this.versionKey(tenantId));
  }
}
