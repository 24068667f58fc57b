/**
 * Groups items into batches of up to `max`, or whatever arrived within `waitMs` of the first one.
 * Flushes run one at a time, in order; `push` awaits when a full batch is flushed (backpressure).
 */
export class Batcher<T> {
  private buf: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly max: number,
    private readonly waitMs: number,
    private readonly flushFn: (items: T[]) => Promise<void>,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  async push(item: T): Promise<void> {
    this.buf.push(item);
    if (this.buf.length >= this.max) await this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.waitMs);
  }

  /** Flushes what is buffered; resolves when every flush so far has finished. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const items = this.buf;
    this.buf = [];
    if (items.length > 0) {
      this.chain = this.chain.then(() => this.flushFn(items)).catch(this.onError);
    }
    return this.chain;
  }

  /** Drops what is buffered (unsettled messages get redelivered by the broker). */
  discard(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.buf = [];
  }
}
