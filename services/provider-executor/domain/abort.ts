// One AbortSignal per attempt that fires on the first of: client gone, total deadline, attempt timeout,
// and remembers which, so the engine can answer 504 for timeouts and stay quiet for a vanished client.
export type AbortCause = "client" | "deadline" | "attempt_timeout";

export interface AttemptAbort {
  signal: AbortSignal;
  cause(): AbortCause | null;
  /** Stops the attempt timer (stream started: only the total deadline applies from here). */
  stopAttemptTimer(): void;
  /** Aborts the call on the caller's behalf (consumer stopped reading). */
  abort(): void;
  dispose(): void;
}

export function attemptAbort(parent: AbortSignal | undefined, deadlineAt: number, attemptTimeoutMs: number, now: () => number): AttemptAbort {
  const ctl = new AbortController();
  let cause: AbortCause | null = null;
  const fire = (c: AbortCause) => {
    if (cause !== null) return;
    cause = c;
    ctl.abort(new Error(c));
  };
  const onParent = () => fire("client");
  if (parent?.aborted) fire("client");
  else parent?.addEventListener("abort", onParent, { once: true });
  const deadlineTimer = setTimeout(() => fire("deadline"), Math.max(0, deadlineAt - now()));
  let attemptTimer: NodeJS.Timeout | undefined = setTimeout(() => fire("attempt_timeout"), attemptTimeoutMs);
  return {
    signal: ctl.signal,
    cause: () => cause,
    stopAttemptTimer() {
      if (attemptTimer) clearTimeout(attemptTimer);
      attemptTimer = undefined;
    },
    abort() {
      fire("client");
    },
    dispose() {
      clearTimeout(deadlineTimer);
      if (attemptTimer) clearTimeout(attemptTimer);
      parent?.removeEventListener("abort", onParent);
    },
  };
}

/** Resolves after `ms`, or early (false) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
