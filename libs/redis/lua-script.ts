// A Lua script run by its SHA1 (EVALSHA), sent in full (EVAL) only when the server does not know it
// (first call, restart, SCRIPT FLUSH). EVAL sent the whole source on every call: the budget's reserve
// script wrote ~3 kB per request and Redis hashed it each time (12.6% of a mesh ledger's CPU went to
// writing that string to the socket).
//
// Calls made on one client within one turn of the event loop go out as one pipeline, written once
// when the turn's I/O callbacks are done (setImmediate). Each request's RPC arrives in its own I/O
// callback, so ioredis' auto-pipelining (flushed on process.nextTick, after every callback) never
// joined them: each reserve and each settle was its own socket write and its own wake-up of Redis.
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

export type LuaArg = string | number | Buffer;

export interface LuaScript {
  readonly sha: string;
  run(redis: Redis, numKeys: number, ...args: LuaArg[]): Promise<unknown>;
}

const isNoScript = (e: unknown): boolean => e instanceof Error && e.message.startsWith("NOSCRIPT");

interface Call {
  sha: string;
  source: string;
  args: LuaArg[];
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** EVALSHA, then EVAL if the server does not know the script (EVAL also caches it). */
async function evalOne(redis: Redis, c: Pick<Call, "sha" | "source" | "args">): Promise<unknown> {
  try {
    return await redis.evalsha(c.sha, ...(c.args as [number, ...LuaArg[]]));
  } catch (e) {
    if (!isNoScript(e)) throw e;
    return redis.eval(c.source, ...(c.args as [number, ...LuaArg[]]));
  }
}

/** The calls waiting for this turn's flush, per client. */
const pending = new WeakMap<Redis, Call[]>();

function flush(redis: Redis): void {
  const calls = pending.get(redis) ?? [];
  pending.delete(redis);
  if (calls.length === 1) {
    const c = calls[0] as Call;
    evalOne(redis, c).then(c.resolve, c.reject);
    return;
  }
  const p = redis.pipeline();
  for (const c of calls) p.evalsha(c.sha, ...(c.args as [number, ...LuaArg[]]));
  p.exec().then(
    (results) => {
      calls.forEach((c, i) => {
        const [err, value] = results?.[i] ?? [new Error("redis pipeline returned no result"), undefined];
        if (!err) c.resolve(value);
        else if (isNoScript(err)) evalOne(redis, c).then(c.resolve, c.reject);
        else c.reject(err);
      });
    },
    (e: unknown) => {
      for (const c of calls) c.reject(e);
    },
  );
}

export function luaScript(source: string): LuaScript {
  const sha = createHash("sha1").update(source).digest("hex");
  return {
    sha,
    run(redis, numKeys, ...rest) {
      return new Promise((resolve, reject) => {
        let calls = pending.get(redis);
        if (!calls) {
          calls = [];
          pending.set(redis, calls);
          setImmediate(flush, redis);
        }
        calls.push({ sha, source, args: [numKeys, ...rest], resolve, reject });
      });
    },
  };
}
