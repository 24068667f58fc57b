import type { Redis } from "ioredis";
import type { BudgetState, BudgetStore, ScopeReservation, StoreReserveResult } from "../domain/budget.ts";

// All keys share one hash tag so the scripts stay valid on Redis Cluster (one slot).
// Reserve: sweep expired reservations, check every scope's hard limit, then reserve in all of them.
const RESERVE = `
local zset, hk, now, amount, expires, resPrefix, id = KEYS[1], KEYS[2], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
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
local n = #KEYS - 2
local state = 'ok'
for i = 1, n do
  local cur = tonumber(redis.call('GET', KEYS[i + 2]) or '0')
  local hard = tonumber(ARGV[5 + (i - 1) * 3 + 1])
  local soft = tonumber(ARGV[5 + (i - 1) * 3 + 2])
  if hard >= 0 and cur + amount > hard then return {0, 'hard', KEYS[i + 2]} end
  if soft >= 0 and cur + amount > soft then state = 'soft' end
end
local list = {}
for i = 1, n do
  redis.call('INCRBY', KEYS[i + 2], amount)
  redis.call('EXPIRE', KEYS[i + 2], tonumber(ARGV[5 + (i - 1) * 3 + 3]))
  list[i] = KEYS[i + 2]
end
redis.call('HSET', hk, 'amount', amount, 'keys', table.concat(list, '\\n'))
redis.call('EXPIRE', hk, 3 * 86400)
redis.call('ZADD', zset, expires, id)
return {1, state, ''}
`;

// Settle: replace the reserved amount by the actual one in every scope. A swept (expired)
// reservation has amount 0, so its late settle adds the actual cost only.
const SETTLE = `
local zset, hk, actual, id = KEYS[1], KEYS[2], tonumber(ARGV[1]), ARGV[2]
if redis.call('EXISTS', hk) == 0 then return 0 end
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
`;

/** BudgetStore on Redis: one Lua script per operation, so replicas reserve atomically. */
export class RedisBudgetStore implements BudgetStore {
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

  async reserve(id: string, scopes: ScopeReservation[], amount: number, ttlMs: number): Promise<StoreReserveResult> {
    const keys = [this.zset(), this.resKey(id), ...scopes.map((s) => this.counterKey(s.counterKey))];
    const args: Array<string | number> = [this.now(), amount, this.now() + ttlMs, `${this.p}res:`, id];
    for (const s of scopes) args.push(s.hardNano ?? -1, s.softNano ?? -1, s.ttlSeconds);
    const r = (await this.redis.eval(RESERVE, keys.length, ...keys, ...args)) as [number, string, string];
    const scope = r[2] ? r[2].slice(this.counterKey("").length) : undefined;
    return { admitted: r[0] === 1, state: r[1] as BudgetState, ...(scope ? { scope } : {}) };
  }

  async settle(id: string, actual: number): Promise<boolean> {
    const r = await this.redis.eval(SETTLE, 2, this.zset(), this.resKey(id), actual, id);
    return r === 1;
  }

  release(id: string): Promise<boolean> {
    return this.settle(id, 0);
  }

  async current(counterKey: string): Promise<number> {
    return Number((await this.redis.get(this.counterKey(counterKey))) ?? 0);
  }
}
