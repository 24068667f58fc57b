/**
 * Groups items into batches of up to `max`, or whatever arrived within `waitMs` of the first one.
 *
 * Two ways to flush:
 * - `serial` (a consumer's acks): batches are handled one at a time, in order, and `push` awaits the
 *   flush of a full batch (backpressure).
 * - `independent` (calls off the answer's path): each batch goes as soon as it closes, whether or not
 *   the one before has finished, so a slow batch holds back nothing behind it.
 */
export interface BatcherOptions {
  max: number;
  /** 0: every item is a batch of its own, sent at once. */
  waitMs: number;
  mode: "serial" | "independent";
  /** Called with what a flush threw (independent mode: the flush function should handle its own). */
  onError?: (err: unknown) => void;
}

/** Shared: push() is called once per request on hot paths, so it allocates no promise of its own. */
const DONE: Promise<void> = Promise.resolve();

export class Batcher<T> {
  private buf: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly onError: (err: unknown) => void;

  constructor(
    private readonly flushFn: (items: T[]) => Promise<void>,
    private readonly opts: BatcherOptions,
  ) {
    this.onError = opts.onError ?? (() => {});
  }

  /** Items waiting for their batch to close. */
  get size(): number {
    return this.buf.length;
  }

  /** Adds an item; resolves once it is buffered, or once the batch it filled has been flushed (serial mode). */
  push(item: T): Promise<void> {
    this.buf.push(item);
    if (this.buf.length >= this.opts.max || this.opts.waitMs <= 0) return this.flush();
    this.timer ??= setTimeout(() => void this.flush(), this.opts.waitMs);
    return DONE;
  }

  /** Flushes what is buffered; resolves when that flush (serial: and every one before it) has finished. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const items = this.buf;
    if (items.length === 0) return this.opts.mode === "serial" ? this.chain : DONE;
    this.buf = [];
    if (this.opts.mode === "independent") return this.flushFn(items).catch(this.onError);
    this.chain = this.chain.then(() => this.flushFn(items)).catch(this.onError);
    return this.chain;
  }

  /** Drops what is buffered (a consumer's unsettled messages are redelivered by the broker). */
  discard(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.buf = [];
  }
}
