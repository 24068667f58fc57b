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
import { Tier } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { cacheKeyOf, classify, classifyRequest, lookupCache, prepare, release, reserve, reservedModels, route } from "./chat/steps.ts";
import type { EdgeDeps } from "./deps.ts";
import { LateClassifier } from "./chat/late-classifier.ts";
import type { EdgeMetrics } from "./metrics.ts";
import { rateLimitHeaders } from "./rate-limit-headers.ts";
import type { EventOutbox } from "./outbox.ts";

export type { ChatCall, ChatResult } from "./chat/record.ts";
export { canonicalParams } from "./chat/steps.ts";

export class ChatPipeline {
  private readonly budgets = new BudgetStates();
  private readonly hooks: AfterAnswerHook[];
  private readonly finish: Finish;
  private readonly deferred: boolean;
  /** Hooks waiting for a late class (at most one per request in flight). */
  private readonly late = new Set<Promise<void>>();
  private readonly lateClassifier: LateClassifier;

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
    this.lateClassifier = new LateClassifier(deps.clients.classifier);
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
    this.deferred = defer !== undefined;
    this.finish = (rec, out) => {
      rec.finished = true;
      const later = rec.classifyLater;
      if (later) {
        // The class first (a named model's, made after the answer), then the hooks that read it.
        const run = (): void => {
          const done = later().then(() => runHooks(rec, out));
          rec.hooksDone = done;
          this.late.add(done);
          void done.finally(() => this.late.delete(done));
        };
        if (defer) defer(run);
        else run();
      } else if (defer) defer(() => runHooks(rec, out));
      else runHooks(rec, out);
    };
  }

  /**
   * Resolves when no answered request's hooks wait for its class any more: a drain awaits it before
   * flushing the outbox, so the RequestCompleted of the last answers is not left behind.
   */
  async idle(): Promise<void> {
    while (this.late.size > 0) await Promise.allSettled([...this.late]);
  }

  async handle(call: ChatCall): Promise<ChatResult> {
    const { deps, metrics } = this;
    const prepared = prepare(deps, call);
    const readsCache = call.cacheControl !== CacheControl.OFF && call.cacheControl !== CacheControl.REFRESH;
    let rec: ChatRecord;
    if (!prepared.alias && !readsCache) {
      // A named model and no cache read: neither routing nor the reservation needs the class, and
      // the answer does not either (x-llmgw-tier is the route's tier, a named model never cascades):
      // only the after-answer hooks read it, so it is made then, off the answer's path. A route
      // without a tier or with a cascade reads the class while answering: classified first then.
      const routed = await this.routeNamed(prepared);
      const route = routed.route;
      if (route.tier !== Tier.UNSPECIFIED && !route.cascade) {
        // Its cache key too waits for the class (classifyLater makes both).
        rec = record(prepared, UNCLASSIFIED, route, routed.reserved, NO_KEY_YET);
        rec.classifyLater = () => this.classifyLater(rec);
      } else {
        rec = record(prepared, await this.classifyReserved(prepared, routed.reserved), route, routed.reserved);
      }
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
      // Without `defer` the hooks have run when handle() returns, also those that waited for the class.
      if (!this.deferred && rec.hooksDone) await rec.hooksDone;
      return result;
    } catch (e) {
      // An RPC failure before any outcome: no RequestCompleted will settle the reservation.
      if (rec.reserved && !rec.finished) void release(deps, call.requestId);
      if (!this.deferred && rec.hooksDone) await rec.hooksDone;
      throw e;
    }
  }

  /** Classifies before answering; a failure gives back the reservation (made beside routing). */
  private async classifyReserved(rec: ReturnType<typeof prepare>, reserved: boolean): Promise<ChatRecord["cls"]> {
    try {
      return await classify(this.deps, rec);
    } catch (e) {
      if (reserved) void release(this.deps, rec.call.requestId);
      throw e;
    }
  }

  /**
   * The class of an answered request, for its hooks. The answer is out and its reservation must be
   * settled by the hooks' RequestCompleted, so a classifier failure is counted and logged, and the
   * hooks run with the empty class rather than not at all.
   */
  private async classifyLater(rec: ChatRecord): Promise<void> {
    rec.classifyLater = undefined;
    try {
      const cls = await this.lateClassifier.classify(classifyRequest(rec));
      rec.cls = cls;
      rec.cacheKey = cacheKeyOf(rec, cls);
    } catch (e) {
      rec.cacheKey = cacheKeyOf(rec, rec.cls);
      this.metrics.degraded.inc({ dependency: "classifier" });
      this.deps.logger.warn({ err: e instanceof Error ? e.message : String(e), requestId: rec.call.requestId }, "classification after the answer failed; recorded unclassified");
    }
  }

  /**
   * A named model: its route (the router still decides fit) and its reservation (the model itself is
   * the worst case) in parallel. A refusal on either side gives back what the other took.
   */
  private async routeNamed(rec: ReturnType<typeof prepare>, cls?: ChatRecord["cls"]): Promise<{ route: NonNullable<ChatRecord["route"]>; reserved: boolean }> {
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
function record(p: ReturnType<typeof prepare>, cls: ChatRecord["cls"], route: ChatRecord["route"], reserved: boolean, cacheKey = cacheKeyOf(p, cls)): ChatRecord {
  return {
    call: p.call,
    ctx: p.ctx,
    alias: p.alias,
    facts: p.facts,
    promptTokens: p.promptTokens,
    cls,
    cacheKey,
    cacheOutcome: "bypass",
    lookup: undefined,
    route,
    reserved,
    // A reservation made beside routing (routeNamed) reported its rate limits on `p`.
    rateLimit: p.rateLimit,
    finished: false,
    classifyLater: undefined,
    hooksDone: undefined,
  };
}

/** The cache key of a request not classified yet: nothing reads it before classifyLater replaces it. */
const NO_KEY_YET: ChatRecord["cacheKey"] = { scope: "", messages: [], paramsJson: "", category: "" };

/** The class of a request not classified yet: nothing reads it before classifyLater replaces it. */
const UNCLASSIFIED: ChatRecord["cls"] = {
  $typeName: "llmgw.classifier.v1.ClassifyResponse",
  tier: Tier.UNSPECIFIED,
  category: "",
  confidence: 0,
  strongProbability: 0,
  features: {},
  reasons: [],
  classifier: "",
};
