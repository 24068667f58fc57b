// How the gateway behaves when a dependency fails: the timeout of every call on the request path and
// the budget admission mode while the shared budget store (Redis) is unreachable. Two config sections
// (`dependencies`, `budgets`), each with defaults, so a deployed file without them keeps working.
import { z } from "zod";

/**
 * Budget admission while Redis is unreachable:
 * - `closed`: refuse with 503 (no spend the counters cannot see);
 * - `open`: admit and count locally, pushed to Redis on recovery (unbounded over a hard limit);
 * - `local`: each ledger replica admits against its share (remaining / replicas) of what it last saw
 *   remaining, counts locally and pushes on recovery; a scope it never saw with a hard limit refuses.
 * Rate limits follow the same mode: in `local` each replica enforces limit / replicas of each
 * (ledger/storage/rate-limiter-outage.ts), `open` admits past that share and counts it.
 */
export const BUDGET_OUTAGE_MODES = ["closed", "open", "local"] as const;
export type BudgetOutageMode = (typeof BUDGET_OUTAGE_MODES)[number];

export const budgetsSchema = z
  .object({
    outage_mode: z.enum(BUDGET_OUTAGE_MODES).default("local"),
    // Replicas assumed in `local` mode when fewer have been seen alive (the share is remaining / this).
    outage_min_replicas: z.number().int().positive().default(1),
    // Redis command timeout for reservations: past it the request is decided by outage_mode.
    redis_timeout_ms: z.number().int().positive().default(1_000),
    // After a failed Redis call, admissions skip Redis (outage mode) for this long, then one call probes.
    probe_after_ms: z.number().int().positive().default(2_000),
  })
  .strict();
export type BudgetsConfig = z.infer<typeof budgetsSchema>;

export const dependenciesSchema = z
  .object({
    // PostgreSQL: server-side statement_timeout and the client's own query timeout (a stalled socket).
    // Below rpc_deadline_ms, so a service answers (with its stale-cache fallback or a 503) before its caller gives up.
    postgres_statement_timeout_ms: z.number().int().positive().default(3_000),
    postgres_query_timeout_ms: z.number().int().positive().default(4_000),
    postgres_connect_timeout_ms: z.number().int().positive().default(3_000),
    // Redis commands other than budgets (the exact cache has its own tighter store budget).
    redis_command_timeout_ms: z.number().int().positive().default(1_000),
    // NATS JetStream publish acknowledgement; on timeout the edge's outbox keeps the event and retries.
    nats_publish_timeout_ms: z.number().int().positive().default(2_000),
    // Deadline of every unary gRPC call between services (the executor's is its total timeout + this).
    rpc_deadline_ms: z.number().int().positive().default(5_000),
  })
  .strict();
export type DependenciesConfig = z.infer<typeof dependenciesSchema>;

export const DEFAULT_DEPENDENCIES: DependenciesConfig = dependenciesSchema.parse({});
export const DEFAULT_BUDGETS: BudgetsConfig = budgetsSchema.parse({});

/**
 * Default deadline of a service's RPCs: dependencies.rpc_deadline_ms, except the executor's, which
 * stream an answer for as long as the edge lets a request run (edge.request_timeout_ms) plus that.
 */
export function rpcDeadlineMs(config: { dependencies: DependenciesConfig; edge: { request_timeout_ms: number } }): (service: string) => number {
  const d = config.dependencies.rpc_deadline_ms;
  return (service) => (service === "executor" ? config.edge.request_timeout_ms + d : d);
}
