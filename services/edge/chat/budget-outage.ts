// What the edge does when the budget reservation itself fails (the ledger unreachable, or it refused
// for a Redis outage): `open` admits and counts it as degraded; `closed` and `local` answer 503, since
// a request the ledger cannot check could pass a hard limit by any amount.
import type { BudgetsConfig } from "#libs/config/resilience.ts";
import { errors, type GatewayError } from "#libs/errors/openai-error.ts";

/** The 503 to answer, or undefined to admit unchecked. */
export function budgetFailure(budgets: Pick<BudgetsConfig, "outage_mode">): GatewayError | undefined {
  if (budgets.outage_mode === "open") return undefined;
  return errors.unavailable("Budgets cannot be checked right now (budget store unavailable); try again shortly.", 1);
}
