import type { Redis } from "ioredis";
import { addTally, type EconomicsState, type EconomicsSyncRequest, type EconomicsSyncResult, type EconomicsTally } from "../domain/economics-pool.ts";
import type { EconomicsStore } from "./economics-store.ts";

const FIELD = { lookups: "l", hits: "h", msSum: "m" } as const;

/**
 * Redis pool of the economics: one hash per time bucket (fields `l:<category>`, `h:<category>`,
 * `m:<category>`, added with HINCRBY / HINCRBYFLOAT, expiring `retainMs` after the last add), and two
 * hashes for the layer's state and switch count per category. One pipeline per sync.
 */
export class RedisEconomicsStore implements EconomicsStore {
  readonly kind = "redis";

  constructor(
    private readonly redis: Redis,
    private readonly opts: { prefix?: string; retainMs: number },
  ) {}

  private key(part: string): string {
    return `${this.opts.prefix ?? "llmgw:cache"}:econ:${part}`;
  }

  async sync(req: EconomicsSyncRequest): Promise<EconomicsSyncResult> {
    const p = this.redis.pipeline();
    for (const [category, byBucket] of req.add) {
      for (const [bucket, t] of byBucket) {
        const key = this.key(`b:${bucket}`);
        p.hincrby(key, `${FIELD.lookups}:${category}`, t.lookups);
        p.hincrby(key, `${FIELD.hits}:${category}`, t.hits);
        p.hincrbyfloat(key, `${FIELD.msSum}:${category}`, t.msSum);
        p.pexpire(key, this.opts.retainMs);
      }
    }
    for (const [category, on] of req.switched) {
      p.hset(this.key("state"), category, on ? "1" : "0");
      p.hincrby(this.key("switches"), category, 1);
    }
    const firstRead = p.length;
    for (let b = req.fromBucket; b <= req.toBucket; b++) p.hgetall(this.key(`b:${b}`));
    p.hgetall(this.key("state"));
    p.hgetall(this.key("switches"));
    const replies = (await p.exec()) ?? [];
    for (const [err] of replies) if (err) throw err;
    const hash = (i: number): Record<string, string> => (replies[i]?.[1] ?? {}) as Record<string, string>;

    const buckets = new Map<string, Map<number, EconomicsTally>>();
    for (let b = req.fromBucket, i = firstRead; b <= req.toBucket; b++, i++) {
      const fields = hash(i);
      for (const [field, raw] of Object.entries(fields)) {
        const colon = field.indexOf(":");
        const kind = field.slice(0, colon);
        const category = field.slice(colon + 1);
        let mine = buckets.get(category);
        if (!mine) buckets.set(category, (mine = new Map()));
        const n = Number(raw);
        addTally(mine, b, { lookups: kind === FIELD.lookups ? n : 0, hits: kind === FIELD.hits ? n : 0, msSum: kind === FIELD.msSum ? n : 0 });
      }
    }
    const stateHash = hash(firstRead + (req.toBucket - req.fromBucket + 1));
    const switchHash = hash(firstRead + (req.toBucket - req.fromBucket + 2));
    const states = new Map<string, EconomicsState>();
    for (const [category, v] of Object.entries(stateHash)) states.set(category, { on: v === "1", switches: Number(switchHash[category] ?? 0) });
    return { buckets, states };
  }
}
