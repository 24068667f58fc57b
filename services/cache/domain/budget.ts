/** Best-effort store calls: a slow or failing store becomes a miss/skip, never an error or a stall. */

export type BudgetOutcome<T> = { ok: true; value: T } | { ok: false; kind: "timeout" | "error"; error?: unknown };

/** Wall-clock allowance shared by all store calls of one lookup or one store. */
export class Deadline {
  private readonly end: number;
  constructor(budgetMs: number, now: () => number = performance.now.bind(performance)) {
    this.now = now;
    this.end = now() + budgetMs;
  }
  private readonly now: () => number;
  remainingMs(): number {
    return Math.max(0, this.end - this.now());
  }
}

export async function withDeadline<T>(deadline: Deadline, work: () => Promise<T>): Promise<BudgetOutcome<T>> {
  const ms = deadline.remainingMs();
  if (ms <= 0) return { ok: false, kind: "timeout" };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<BudgetOutcome<T>>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, kind: "timeout" }), ms);
  });
  const run = (async (): Promise<BudgetOutcome<T>> => {
    try {
      return { ok: true, value: await work() };
    } catch (error) {
      return { ok: false, kind: "error", error };
    }
  })();
  try {
    return await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
