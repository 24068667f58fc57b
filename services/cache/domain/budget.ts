/** Best-effort store calls: a slow or failing store becomes a miss/skip, never an error or a stall. */

export type BudgetOutcome<T> = { ok: true; value: T } | { ok: false; kind: "timeout" | "error"; error?: unknown };

/**
 * Time allowance shared by all store calls of one lookup or one store. Only time spent waiting on stores
 * counts: local CPU work between calls (embedding, guard) is not the stores' fault and is not charged.
 */
export class Deadline {
  private spent = 0;
  private readonly now: () => number;
  constructor(
    private readonly budgetMs: number,
    now: () => number = performance.now.bind(performance),
  ) {
    this.now = now;
  }
  remainingMs(): number {
    return Math.max(0, this.budgetMs - this.spent);
  }
  /** Starts a charged interval; call the returned function when the store call settles. */
  start(): () => void {
    const t0 = this.now();
    return () => {
      this.spent += this.now() - t0;
    };
  }
}

/** For in-process stores: a wall-clock race would only fire when the OS deschedules us, so only errors are mapped. */
export async function settle<T>(work: () => Promise<T>): Promise<BudgetOutcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, kind: "error", error };
  }
}

export async function withDeadline<T>(deadline: Deadline, work: () => Promise<T>): Promise<BudgetOutcome<T>> {
  const ms = deadline.remainingMs();
  if (ms <= 0) return { ok: false, kind: "timeout" };
  const stop = deadline.start();
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
    stop();
  }
}
