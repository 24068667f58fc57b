// Last known budget state per tenant/key, so the router can prefer cheaper tiers past a soft limit
// without an extra round trip before routing. Refreshed by every reservation's answer.
export class BudgetStates {
  private readonly states = new Map<string, { state: string; at: number }>();

  constructor(private readonly ttlMs = 60_000) {}

  get(key: string): string {
    const s = this.states.get(key);
    return s && Date.now() - s.at < this.ttlMs ? s.state : "ok";
  }

  set(key: string, state: string): void {
    if (this.states.size > 50_000) this.states.clear();
    this.states.set(key, { state: state || "ok", at: Date.now() });
  }
}
