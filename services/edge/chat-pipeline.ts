// The hot path of one chat completion as a list of small steps over one record: prepare → classify
// → cache lookup → route → reserve → execute (cascade when the router asks) or answer from cache;
// then the after-answer hooks (metrics, cache store, RequestCompleted — which settles the budget in
// the ledger — and shadow tests). Policy lives with its owners: the router names candidates,
// cascade, shadow candidates and the baseline model; the ledger settles money.
import { BudgetStates } from "./budget-states.ts";
import { answerFromCache, executeJson, executeStreaming, type Finish } from "./chat/execute.ts";
import { chatHooks, type AfterAnswerHook } from "./chat/hooks.ts";
import type { ChatCall, ChatRecord, ChatResult } from "./chat/record.ts";
import { cacheKeyOf, classify, lookupCache, prepare, release, reserve, route } from "./chat/steps.ts";
import type { EdgeDeps } from "./deps.ts";
import type { EdgeMetrics } from "./metrics.ts";
import type { EventOutbox } from "./outbox.ts";

export type { ChatCall, ChatResult } from "./chat/record.ts";
export { canonicalParams } from "./chat/steps.ts";

export class ChatPipeline {
  private readonly budgets = new BudgetStates();
  private readonly hooks: AfterAnswerHook[];
  private readonly finish: Finish;

  constructor(
    private readonly deps: EdgeDeps,
    outbox: EventOutbox,
    private readonly metrics: EdgeMetrics,
    hooks?: AfterAnswerHook[],
  ) {
    this.hooks = hooks ?? chatHooks({ deps, outbox, metrics });
    this.finish = (rec, out) => {
      rec.finished = true;
      for (const hook of this.hooks) {
        try {
          hook(rec, out);
        } catch (e) {
          deps.logger.error({ err: e instanceof Error ? e.message : String(e), requestId: rec.call.requestId }, "after-answer hook failed");
        }
      }
    };
  }

  async handle(call: ChatCall): Promise<ChatResult> {
    const { deps, metrics } = this;
    const prepared = prepare(deps, call);
    const cls = await classify(deps, prepared);
    const rec: ChatRecord = { ...prepared, cls, cacheKey: cacheKeyOf(prepared, cls), cacheOutcome: "bypass", reserved: false };
    const lookup = await lookupCache(deps, metrics, rec);
    if (lookup) {
      rec.lookup = lookup;
      rec.cacheOutcome = !lookup.hit ? "miss" : lookup.layer === "semantic" ? "hit_semantic" : "hit_exact";
      if (lookup.hit) return answerFromCache(rec, this.finish);
    }
    rec.route = await route(deps, this.budgets, rec);
    rec.reserved = await reserve(deps, metrics, this.budgets, rec);
    try {
      return call.body.stream === true ? await executeStreaming(deps, metrics, rec, this.finish) : await executeJson(deps, metrics, rec, this.finish);
    } catch (e) {
      // An RPC failure before any outcome: no RequestCompleted will settle the reservation.
      if (rec.reserved && !rec.finished) void release(deps, call.requestId);
      throw e;
    }
  }
}
