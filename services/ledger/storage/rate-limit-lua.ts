// The rate-limit parts of the budget store's Lua scripts (spliced into RESERVE and SETTLE, so one
// EVAL admits a request against its rate limits and its budget together). Same arithmetic as
// domain/rate-limit.ts `gcra`/`statusOf`; rate-limit.test.ts runs both stores through one table.
import type { StoreRate } from "../domain/budget.ts";
import type { RateCharge, RateStatus } from "../domain/rate-limit.ts";

// In RESERVE, after the version check; n = budget scopes, m = limiters (KEYS[3 + n + j]).
// ARGV after the budget scopes' triples: now (ms; -1 = Redis TIME, one clock for every replica),
// tokens, then per limiter: limit, period ms, kind (r|t), name; ARGV[#ARGV] = m.
export const RATE_CHECK = `
local rb = 6 + 3 * n
local rnow = tonumber(ARGV[rb + 1])
if rnow < 0 then
  local tm = redis.call('TIME')
  rnow = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)
end
local rtok = tonumber(ARGV[rb + 2])
local rtats, rtoks = {}, {}
local retry, refusedBy = -1, ''
local lr, rr, sr, lt, rt, st, minr, mint = 0, 0, 0, 0, 0, 0, -1, -1
for j = 1, m do
  local o = rb + 2 + (j - 1) * 4
  local limit, period, kind = tonumber(ARGV[o + 1]), tonumber(ARGV[o + 2]), ARGV[o + 3]
  local t = period / limit
  local cost = 1
  if kind == 't' then
    cost = rtok
    rtoks[#rtoks + 1] = KEYS[3 + n + j] .. '|' .. string.format('%.6f', t)
  end
  local tat = tonumber(redis.call('GET', KEYS[3 + n + j]) or '0')
  local base = math.max(tat, rnow)
  local nt = base + cost * t
  local after = nt
  if nt - rnow > period then
    after = base
    local wait = math.ceil(nt - period - rnow)
    if wait > retry then
      retry = wait
      refusedBy = ARGV[o + 4]
    end
  end
  rtats[j] = nt
  local rem = math.max(0, math.floor((period - (after - rnow)) / t))
  local rst = math.max(0, math.ceil(after - rnow))
  if kind == 'r' and (minr < 0 or rem < minr) then
    minr = rem
    lr, rr, sr = limit, rem, rst
  end
  if kind == 't' and (mint < 0 or rem < mint) then
    mint = rem
    lt, rt, st = limit, rem, rst
  end
end
local rinfo = string.format('%d,%d,%d,%d,%d,%d', lr, rr, sr, lt, rt, st)
if retry >= 0 then return {3, '', refusedBy, string.format('%d', retry), rinfo} end
`;

// In RESERVE, once admitted: store every limiter's new TAT; remember the token limiters and the
// estimate on the reservation so the settle can charge the actual usage instead.
export const RATE_COMMIT = `
for j = 1, m do
  redis.call('SET', KEYS[3 + n + j], string.format('%.3f', rtats[j]), 'PX', math.ceil(rtats[j] - rnow) + 1000)
end
if #rtoks > 0 then redis.call('HSET', hk, 'tok', rtok, 'rl', table.concat(rtoks, '\\n')) end
`;

// In SETTLE, before the budget part: ARGV[3] = actual tokens (-1 = leave the estimate), ARGV[4] =
// now (-1 = Redis TIME). Moves each token limiter's TAT by (actual - estimate) · T: a refund or a debt.
export const RATE_SETTLE = `
local atok = tonumber(ARGV[3] or '-1')
local rl = redis.call('HGET', hk, 'rl')
if rl and atok >= 0 then
  local est = tonumber(redis.call('HGET', hk, 'tok') or '0')
  local snow = tonumber(ARGV[4] or '-1')
  if snow < 0 then
    local tm = redis.call('TIME')
    snow = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)
  end
  local d = atok - est
  if d ~= 0 then
    for entry in string.gmatch(rl, '[^\\n]+') do
      local k, ts = string.match(entry, '^(.*)|([^|]+)$')
      local tat = tonumber(redis.call('GET', k) or '0')
      local base = tat
      if d > 0 then base = math.max(tat, snow) end
      local nt = base + d * tonumber(ts)
      if nt > snow then
        redis.call('SET', k, string.format('%.3f', nt), 'PX', math.ceil(nt - snow) + 1000)
      else
        redis.call('DEL', k)
      end
    end
  end
  redis.call('HDEL', hk, 'rl', 'tok')
end
`;

/** KEYS and ARGV the rate parts read, appended after the budget ones; the count goes last. */
export function rateArgs(rate: RateCharge | undefined, key: (k: string) => string, now: number): { keys: string[]; args: Array<string | number> } {
  const limiters = rate?.limiters ?? [];
  const args: Array<string | number> = [now, Math.max(0, Math.round(rate?.tokens ?? 0))];
  for (const l of limiters) args.push(l.limit, l.periodMs, l.kind === "requests" ? "r" : "t", l.name);
  args.push(limiters.length);
  return { keys: limiters.map((l) => key(l.key)), args };
}

const parseStatus = (s: string | undefined): RateStatus | undefined => {
  if (!s) return undefined;
  const [limitRequests = 0, remainingRequests = 0, resetRequestsMs = 0, limitTokens = 0, remainingTokens = 0, resetTokensMs = 0] = s.split(",").map(Number);
  return { limitRequests, remainingRequests, resetRequestsMs, limitTokens, remainingTokens, resetTokensMs };
};

/** The rate part of RESERVE's answer: a refusal ({3, '', name, ms, status}) or the status an admission ends with. */
export function rateResult(r: ReadonlyArray<number | string>, scopes: number): StoreRate | undefined {
  if (r[0] === 3) {
    const status = parseStatus(String(r[4] ?? ""));
    return { refusal: { refusedBy: String(r[2]), retryAfterMs: Number(r[3]) }, ...(status ? { status } : {}) };
  }
  const status = parseStatus(typeof r[3 + scopes] === "string" ? (r[3 + scopes] as string) : undefined);
  return status ? { status } : undefined;
}
