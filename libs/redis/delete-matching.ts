import type { Redis } from "ioredis";

/** Deletes every key matching a glob pattern (SCAN, so a large keyspace is never blocked); returns how many went. */
export async function deleteMatching(redis: Redis, pattern: string): Promise<number> {
  let cursor = "0";
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
    cursor = next;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== "0");
  return deleted;
}
