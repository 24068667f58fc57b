// The Redis budget store behind a failure guard: the first failed call (error or command timeout)
// turns the store "down", and from then on admissions are decided at once by the outage mode
// (domain/outage-admission.ts) instead of each waiting out a timeout on a stalled Redis. A background
// probe brings it back: it pushes what was admitted locally, then lets requests reach Redis again.
// A heartbeat while up keeps the replica count and the limited counters fresh for the `local` share.
// Rate limits are enforced in the outage too, against this replica's share (rate-limiter-outage.ts).
import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import type { BudgetsConfig } from "#libs/config/resilience.ts";
import { serviceError } from "#libs/errors/connect-to-openai.ts";
import type { BudgetStore, LimitsVersions, StoreReserveResult } from "../domain/budget.ts";
import { isRefusal, OutageAdmission, type JournalEntry } from "../domain/outage-admission.ts";
import type { RedisBudgetStore } from "./budget-store-redis.ts";
import { OutageRateLimiter } from "./rate-limiter-outage.ts";

export interface GuardLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

const HEARTBEAT_MS = 2_000;
const ALIVE_MS = 10_000;
const errMsg = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class GuardedBudgetStore implements BudgetStore, LimitsVersions {
  readonly outage: OutageAdmission;
  readonly outageRates: OutageRateLimiter;
  readonly replicaId = randomUUID();
  private down = false;
  private probe: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly inner: RedisBudgetStore,
    private readonly cfg: Pick<BudgetsConfig, "outage_mode" | "outage_min_replicas" | "probe_after_ms">,
    private readonly logger: GuardLogger,
    private readonly opts: { heartbeatMs?: number } = {},
  ) {
    this.outage = new OutageAdmission({ mode: cfg.outage_mode, minReplicas: cfg.outage_min_replicas });
    this.outageRates = new OutageRateLimiter(cfg.outage_mode);
  }

  /** Starts the heartbeat (replica count, fresh counters); the first beat runs now. */
  async start(): Promise<void> {
    await this.beat();
    this.heartbeat = setInterval(() => void this.beat(), this.opts.heartbeatMs ?? HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.probe) clearTimeout(this.probe);
    if (!this.down) await this.inner.leave(this.replicaId).catch(() => undefined);
  }

  /** False while Redis is unreachable (readiness, tests). */
  available(): boolean {
    return !this.down;
  }

  // Arguments pass through whole, so what the Redis store takes besides the budget (rate limits) reaches it.
  async reserve(...args: Parameters<RedisBudgetStore["reserve"]>): Promise<StoreReserveResult> {
    const [id, scopes, amount, , , rate] = args;
    if (!this.down) {
      try {
        const r = await this.inner.reserve(...args);
        if (r.counters) this.outage.learn(scopes, r.counters);
        else if (!r.admitted && r.scope) this.outage.refused(scopes, r.scope, amount);
        return r;
      } catch (e) {
        this.fail(e);
      }
    }
    // As in the Redis script: rate limits first (a refusal reserves nothing), charged only once the
    // budget admits. `closed` skips them: the budget refuses everything with a 503.
    const rl = this.outage.mode === "closed" ? undefined : this.outageRates.check(id, rate, this.outage.replicas());
    if (rl?.result?.refusal) return { admitted: false, state: "ok", rate: rl.result };
    const v = this.outage.admit(id, scopes, amount);
    if (isRefusal(v)) throw serviceError(v.unavailable, Code.Unavailable, { retryAfterSec: 1 });
    if (v.admitted) rl?.commit();
    return rl?.result ? { ...v, rate: rl.result } : v;
  }

  async settle(...args: Parameters<RedisBudgetStore["settle"]>): Promise<boolean> {
    const [id, actual, actualTokens] = args;
    if (!this.down) {
      try {
        return await this.inner.settle(...args);
      } catch (e) {
        this.fail(e);
      }
    }
    this.outage.settle(id, actual);
    this.outageRates.settle(id, actualTokens);
    return true;
  }

  /** Nothing was used: the amount and the token estimate (rate limits) go back. */
  release(id: string): Promise<boolean> {
    return this.settle(id, 0, 0);
  }

  current(counterKey: string): Promise<number> {
    return this.inner.current(counterKey);
  }

  /** Fails at once while down: the limits repo then reserves unguarded (its cache, read from the database). */
  async version(tenantId: string): Promise<number> {
    if (this.down) throw new Error("budget store unavailable");
    try {
      return await this.inner.version(tenantId);
    } catch (e) {
      this.fail(e);
      throw e;
    }
  }

  async bump(tenantId: string): Promise<void> {
    if (this.down) throw new Error("budget store unavailable");
    try {
      await this.inner.bump(tenantId);
    } catch (e) {
      this.fail(e);
      throw e;
    }
  }

  private fail(e: unknown): void {
    if (this.down) return;
    this.down = true;
    this.logger.warn({ err: errMsg(e), mode: this.cfg.outage_mode }, "budget store unreachable; admitting by outage mode");
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    if (this.stopped || this.probe) return;
    this.probe = setTimeout(() => {
      this.probe = undefined;
      void this.recover();
    }, this.cfg.probe_after_ms);
    this.probe.unref();
  }

  /** Redis answers again: push the journal, then admit through Redis. Any failure waits for the next probe. */
  private async recover(): Promise<void> {
    try {
      await this.beat(true);
      for (;;) {
        const { entries, settles } = this.outage.pending();
        if (entries.length === 0 && settles.length === 0) break;
        for (const e of entries) await this.push(e);
        for (const [id, actual] of settles) {
          await this.inner.settle(id, actual);
          this.outage.pushed({ reservationId: id });
        }
      }
      this.outageRates.recovered();
      this.down = false;
      this.logger.info({ admittedOverRateShare: this.outageRates.admittedOverShare() }, "budget store reachable again; local admissions pushed");
    } catch (e) {
      this.logger.warn({ err: errMsg(e) }, "budget store still unreachable");
      this.scheduleProbe();
    }
  }

  /** A local admission into the counters: reserved without limits (it was admitted), settled if its cost is known. */
  private async push(e: JournalEntry): Promise<void> {
    const unlimited = e.scopes.map((s) => ({ ...s, hardNano: null, softNano: null }));
    const amount = e.actualNano ?? e.amountNano;
    await this.inner.reserve(e.reservationId, unlimited, amount, 10 * 60_000);
    if (e.actualNano !== undefined) await this.inner.settle(e.reservationId, e.actualNano);
    this.outage.pushed(e);
  }

  private async beat(force = false): Promise<void> {
    if (this.down && !force) return;
    const keys = this.outage.watchedCounters();
    try {
      const r = await this.inner.observe(this.replicaId, keys, ALIVE_MS);
      this.outage.observed(r.replicas, new Map(keys.map((k, i) => [k, r.values[i] ?? 0])));
    } catch (e) {
      if (force) throw e;
      this.fail(e);
    }
  }
}
