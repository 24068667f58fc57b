// The router's view of executor health: circuit-breaker states polled from the executor, so open
// breakers are skipped before a request is sent. Stale data fails open (treated as closed).
import type { Logger } from "#libs/log/logger.ts";
import type { BreakerState } from "./domain/types.ts";

export type HealthSource = () => Promise<{ model: string; state: string }[]>;

export class HealthView {
  private states = new Map<string, BreakerState>();
  private timer: NodeJS.Timeout | undefined;
  private updatedAt = 0;

  constructor(
    private readonly source: HealthSource,
    private readonly logger: Logger,
    private readonly opts: { intervalMs: number; staleMs: number } = { intervalMs: 1_000, staleMs: 10_000 },
  ) {}

  start(): void {
    const tick = () => {
      this.refresh().finally(() => {
        this.timer = setTimeout(tick, this.opts.intervalMs);
        this.timer.unref();
      });
    };
    tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  async refresh(): Promise<void> {
    try {
      const list = await this.source();
      this.states = new Map(list.map((d) => [d.model, (d.state === "open" || d.state === "half_open" ? d.state : "closed") as BreakerState]));
      this.updatedAt = Date.now();
    } catch (e) {
      this.logger.debug({ err: e instanceof Error ? e.message : String(e) }, "executor health poll failed");
    }
  }

  state(model: string): BreakerState {
    if (Date.now() - this.updatedAt > this.opts.staleMs) return "closed";
    return this.states.get(model) ?? "closed";
  }
}
