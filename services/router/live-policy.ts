// The overrides the router applies now: the live stored version, else the configured ones, and a
// canary version on trial for a share of the sessions. Refreshed by polling (every replica converges
// within one interval; the replica that applied a change sees it at once), so an applied, reverted
// or promoted policy takes effect without a restart.
import type { RoutingOverride } from "#libs/config/routing-overrides.ts";
import type { Logger } from "#libs/log/logger.ts";
import { inCanary, type PolicyArm } from "./domain/canary-arm.ts";
import type { CanaryPolicy, LivePolicy, PolicyStore } from "./storage/policy-store.ts";

export class LivePolicyView {
  private current: LivePolicy | undefined;
  private trial: CanaryPolicy | undefined;
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

  /** The arm a request is routed by: the canary for its share of sessions, else the live version. */
  arm(tenantId: string, sessionId: string, requestId: string): PolicyArm {
    const c = this.trial;
    if (c && inCanary(c.share, tenantId, sessionId, requestId)) return { version: c.version, canary: true, overrides: c.overrides };
    return { version: this.current?.version ?? 0, canary: false, overrides: this.overrides() };
  }

  state(): LivePolicy {
    return this.current ?? { version: 0, overrides: [...this.configured], reason: "configured overrides (deploy/config)", changedAt: "" };
  }

  canary(): CanaryPolicy | undefined {
    return this.trial;
  }

  async refresh(): Promise<void> {
    const [next, trial] = await Promise.all([this.store.live(), this.store.canary()]);
    if ((next?.version ?? 0) !== (this.current?.version ?? 0)) this.logger.info({ version: next?.version ?? 0, reason: next?.reason ?? "" }, "routing policy changed");
    if ((trial?.version ?? 0) !== (this.trial?.version ?? 0) || trial?.share !== this.trial?.share) {
      this.logger.info({ version: trial?.version ?? 0, share: trial?.share ?? 0, reason: trial?.reason ?? "" }, trial ? "routing policy canary running" : "routing policy canary ended");
    }
    this.current = next;
    this.trial = trial;
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
