import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { deleteMatching } from "./delete-matching.ts";

const redis = new Redis(process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379", { maxRetriesPerRequest: 1 });
afterAll(() => redis.disconnect());

describe("deleteMatching", () => {
  it("deletes the keys matching the pattern, past one SCAN page, and leaves the others", async () => {
    const prefix = `test:delete-matching:${randomUUID()}`;
    const p = redis.pipeline();
    for (let i = 0; i < 1_200; i++) p.set(`${prefix}:a:${i}`, "1");
    p.set(`${prefix}:b`, "keep");
    await p.exec();
    expect(await deleteMatching(redis, `${prefix}:a:*`)).toBe(1_200);
    expect(await redis.get(`${prefix}:b`)).toBe("keep");
    expect(await deleteMatching(redis, `${prefix}:*`)).toBe(1);
  });
});
