// Reads the shared budget counters a mesh namespace keeps in Redis (spent + reserved, nano-USD),
// the same keys every edge replica's ledger reserves in.
import { Redis } from "ioredis";
import { REDIS_URL } from "./ledger-db.ts";

export class BudgetCounters {
  private readonly redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });

  constructor(private readonly namespace: string) {}

  /** Sum of a tenant's daily counters (all days, so a run across UTC midnight still adds up). */
  async tenantDayNano(tenantId: string): Promise<bigint> {
    let cursor = "0";
    let total = 0n;
    do {
      const [next, keys] = await this.redis.scan(cursor, "MATCH", `llmgw:${this.namespace}:{budget}:c:t:${tenantId}:day:*`, "COUNT", 200);
      cursor = next;
      for (const k of keys) total += BigInt((await this.redis.get(k)) ?? "0");
    } while (cursor !== "0");
    return total;
  }

  /** Polls until the tenant's day counter equals `nano` (settles and releases are asynchronous). */
  async waitForTenantDay(tenantId: string, nano: bigint, timeoutMs = 10_000): Promise<bigint> {
    const deadline = Date.now() + timeoutMs;
    let cur = await this.tenantDayNano(tenantId);
    while (cur !== nano && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      cur = await this.tenantDayNano(tenantId);
    }
    return cur;
  }

  close(): void {
    this.redis.disconnect();
  }
}
