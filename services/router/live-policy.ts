// The overrides the router applies now: the live stored version, else the configured ones. Refreshed
// by polling (every replica converges within one interval; the replica that applied a change sees
// it at once), so an applied or reverted policy takes effect without a restart.
import type { RoutingOverride } from "#libs/config/routing-overrides.ts";
import type { Logger } from "#libs/log/logger.ts";
import type { LivePolicy, PolicyStore } from "./storage/policy-store.ts";

export class LivePolicyView {
  private current: LivePolicy | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: PolicyStore,
    private readonly configured: readonly RoutingOverride[],
    private readonly logger: Logger,
    private readonly intervalMs = 2_000,
  ) {}

  overrides(): readonly RoutingOverride[] {
    return this.current?.overrides ?? this.configured;
  }

  state(): LivePolicy {
    return this.current ?? { version: 0, overrides: [...this.configured], reason: "configured overrides (deploy/config)", changedAt: "" };
  }

  async refresh(): Promise<void> {
    const next = await this.store.live();
    if ((next?.version ?? 0) !== (this.current?.version ?? 0)) this.logger.info({ version: next?.version ?? 0, reason: next?.reason ?? "" }, "routing policy changed");
    this.current = next;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.refresh().catch((e: unknown) => this.logger.warn({ err: e instanceof Error ? e.message : String(e) }, "routing policy refresh failed; keeping the last one"));
    }, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
