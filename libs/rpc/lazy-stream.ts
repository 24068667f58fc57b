// A server stream wrapped without an async generator: what a generator around `for await` / `yield*`
// did, without its machinery per event (the executor's answer passes through several wrappers). The
// in-process client (direct-client.ts) maps each message; the instrumentation (instrument.ts) times it.

/**
 * The wrapped handler is called on the first next(); a failure or the end closes the stream; return()
 * before the first next() never calls it, and a later one returns the handler's iterator too.
 * Subclasses see the start, each message, and the end.
 */
export abstract class LazyStream implements AsyncIterableIterator<unknown> {
  private it: AsyncIterator<unknown> | undefined;
  private over = false;

  constructor(private readonly start: () => AsyncIterable<unknown>) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Before the handler is called (first next()). */
  protected began(): void {}
  /** Each message on its way to the caller. */
  protected map(value: unknown): unknown {
    return value;
  }
  /** The stream ended, well (`failed` false) or with `err` (not called when the caller stopped early). */
  protected ended(_failed: boolean, _err?: unknown): void {}

  async next(): Promise<IteratorResult<unknown>> {
    if (this.over) return { done: true, value: undefined };
    try {
      if (!this.it) {
        this.began();
        this.it = this.start()[Symbol.asyncIterator]();
      }
      const r = await this.it.next();
      if (!r.done) return { done: false, value: this.map(r.value) };
      this.over = true;
      this.ended(false);
      return { done: true, value: undefined };
    } catch (e) {
      this.over = true;
      this.ended(true, e);
      throw e;
    }
  }

  async return(): Promise<IteratorResult<unknown>> {
    if (this.over) return { done: true, value: undefined };
    this.over = true;
    await this.it?.return?.();
    return { done: true, value: undefined };
  }
}
