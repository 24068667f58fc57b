/** Logs the first failure of a burst, then at most one summary per window, so a dead Redis can't flood logs. */
export interface WarnLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
}

export class BurstLogger {
  private windowStart = Number.NEGATIVE_INFINITY;
  private suppressed = 0;

  constructor(
    private readonly logger: WarnLogger | undefined,
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(obj: Record<string, unknown>, msg: string): void {
    const t = this.now();
    if (t - this.windowStart < this.windowMs) {
      this.suppressed++;
      return;
    }
    const suppressed = this.suppressed;
    this.windowStart = t;
    this.suppressed = 0;
    this.logger?.warn({ ...obj, suppressedSinceLast: suppressed }, msg);
  }
}
