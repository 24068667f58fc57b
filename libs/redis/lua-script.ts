// A Lua script run by its SHA1 (EVALSHA), sent in full (EVAL) only when the server does not know it
// (first call, restart, SCRIPT FLUSH). EVAL sent the whole source on every call: the budget's reserve
// script wrote ~3 kB per request and Redis hashed it each time (12.6% of a mesh ledger's CPU went to
// writing that string to the socket).
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

export type LuaArg = string | number | Buffer;

export interface LuaScript {
  readonly sha: string;
  run(redis: Redis, numKeys: number, ...args: LuaArg[]): Promise<unknown>;
}

const isNoScript = (e: unknown): boolean => e instanceof Error && e.message.startsWith("NOSCRIPT");

export function luaScript(source: string): LuaScript {
  const sha = createHash("sha1").update(source).digest("hex");
  return {
    sha,
    async run(redis, numKeys, ...args) {
      try {
        return await redis.evalsha(sha, numKeys, ...args);
      } catch (e) {
        if (!isNoScript(e)) throw e;
        // EVAL also caches the script, so the next call is an EVALSHA again.
        return redis.eval(source, numKeys, ...args);
      }
    },
  };
}
