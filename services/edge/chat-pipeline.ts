// The hot path of one chat completion as a list of small steps over one record: prepare → classify
// → cache lookup → route → reserve → execute (cascade when the router asks) or answer from cache;
// then the after-answer hooks (metrics, cache store, RequestCompleted — which settles the budget in
// the ledger — and shadow tests). Policy lives with its owners: the router names candidates,
// cascade, shadow candidates and the baseline model; the ledger settles money.
import { BudgetStates } from "./budget-states.ts";
import { answerFromCache, executeJson, executeStreaming, type Finish } from "./chat/execute.ts";
import { chatHooks, type AfterAnswerHook } from "./chat/hooks.ts";
import type { ChatCall, ChatRecord, ChatResult } from "./chat/record.ts";
import { CacheControl } from "#libs/gen/llmgw/cache/v1/cache_pb.ts";
import { cacheKeyOf, classify, lookupCache, prepare, release, reserve, reservedModels, route } from "./chat/steps.ts";
import type { EdgeDeps } from "./deps.ts";
import type { EdgeMetrics } from "./metrics.ts";
import { rateLimitHeaders } from "./rate-limit-headers.ts";
import type { EventOutbox } from "./outbox.ts";

export type { ChatCall, ChatResult } from "./chat/record.ts";
export { canonicalParams } from "./chat/steps.ts";

export class ChatPipeline {
  private readonly budgets = new BudgetStates();
  private readonly hooks: AfterAnswerHook[];
  private readonly finish: Finish;

  /**
   * `opts.defer` runs the after-answer hooks later: the edge passes setImmediate, so the answer is
   * written to the client before the bookkeeping (metrics, cache store, RequestCompleted encoding and
   * publish, shadow sampling) runs. Without it the hooks run before handle() returns (unit tests).
   */
  constructor(
    private readonly deps: EdgeDeps,
    outbox: EventOutbox,
    private readonly metrics: EdgeMetrics,
    hooks?: AfterAnswerHook[],
    opts: { defer?: (run: () => void) => void } = {},
  ) {
    this.hooks = hooks ?? chatHooks({ deps, outbox, metrics });
    const runHooks = (rec: ChatRecord, out: Parameters<Finish>[1]): void => {
      for (const hook of this.hooks) {
        try {
          hook(rec, out);
        } catch (e) {
          deps.logger.error({ err: e instanceof Error ? e.message : String(e), requestId: rec.call.requestId }, "after-answer hook failed");
        }
      }
    };
    const defer = opts.defer;
    this.finish = (rec, out) => {
      rec.finished = true;
      if (defer) defer(() => runHooks(rec, out));
      else runHooks(rec, out);
    };
  }

  async handle(call: ChatCall): Promise<ChatResult> {
    const { deps, metrics } = this;
    const prepared = prepare(deps, call);
    const readsCache = call.cacheControl !== CacheControl.OFF && call.cacheControl !== CacheControl.REFRESH;
    let rec: ChatRecord;
    if (!prepared.alias && !readsCache) {
      // A named model and no cache read: neither routing nor the reservation needs the class, so
      // classify, route and reserve run side by side (one round trip instead of three in the mesh).
      const [cls, routed] = await Promise.all([classify(deps, prepared), this.routeNamed(prepared)]);
      rec = record(prepared, cls, routed.route, routed.reserved);
    } else {
      const cls = await classify(deps, prepared);
      rec = record(prepared, cls, undefined, false);
      const lookup = await lookupCache(deps, metrics, rec);
      if (lookup) {
        rec.lookup = lookup;
        // A request the cache's privacy rules keep out was never looked up: a bypass, not a miss.
        rec.cacheOutcome = !lookup.hit ? (lookup.reason.startsWith("skip:private:") ? "bypass" : "miss") : lookup.layer === "semantic" ? "hit_semantic" : "hit_exact";
        if (lookup.hit) return answerFromCache(rec, this.finish, deps);
      }
      if (prepared.alias) {
        rec.route = await route(deps, this.budgets, rec, cls);
        rec.reserved = await reserve(deps, metrics, this.budgets, rec, reservedModels(rec.route));
      } else {
        Object.assign(rec, await this.routeNamed(rec, cls));
      }
    }
    try {
      const result = call.body.stream === true ? await executeStreaming(deps, metrics, rec, this.finish) : await executeJson(deps, metrics, rec, this.finish);
      Object.assign(result.headers, rateLimitHeaders(rec.rateLimit));
      return result;
    } catch (e) {
      // An RPC failure before any outcome: no RequestCompleted will settle the reservation.
      if (rec.reserved && !rec.finished) void release(deps, call.requestId);
      throw e;
    }
  }

  /**
   * A named model: its route (the router still decides fit) and its reservation (the model itself is
   * the worst case) in parallel. A refusal on either side gives back what the other took.
   */
  private async routeNamed(rec: ReturnType<typeof prepare>, cls?: ChatRecord["cls"]): Promise<Pick<ChatRecord, "route" | "reserved">> {
    const { deps, metrics } = this;
    const [routed, reserved] = await Promise.allSettled([
      route(deps, this.budgets, rec, cls),
      reserve(deps, metrics, this.budgets, rec, { candidates: [rec.call.body.model], escalation: [] }),
    ]);
    if (routed.status === "rejected") {
      if (reserved.status === "fulfilled" && reserved.value) void release(deps, rec.call.requestId);
      throw routed.reason;
    }
    if (reserved.status === "rejected") throw reserved.reason;
    return { route: routed.value, reserved: reserved.value };
  }
}

/**
 * The record as one literal holding every field a later step or hook writes: all records share one
 * shape and those writes are plain stores (building it from spreads and adding `finished`,
 * `rateLimit`... later cost a shape change each, rec.finished alone ~0.5% of the CPU at c=32).
 */
function record(p: ReturnType<typeof prepare>, cls: ChatRecord["cls"], route: ChatRecord["route"], reserved: boolean): ChatRecord {
  return {
    call: p.call,
    ctx: p.ctx,
    alias: p.alias,
    facts: p.facts,
    promptTokens: p.promptTokens,
    cls,
    cacheKey: cacheKeyOf(p, cls),
    cacheOutcome: "bypass",
    lookup: undefined,
    route,
    reserved,
    // A reservation made beside routing (routeNamed) reported its rate limits on `p`.
    rateLimit: p.rateLimit,
    finished: false,
  };
}
