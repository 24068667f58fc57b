// The one table of services: name, folder, which peers each calls, and how each is built (one
// signature). Both composition roots walk it: embedded builds every row in one process with
// in-process clients; the mesh serves each row behind gRPC (one process per row, or all in one for
// tests). Rows are in dependency order: a service's peers come before it. A row's code is imported
// when it is built, so a mesh process loads its own service only (and the launcher none).
import type { BuiltService } from "#libs/server/service-parts.ts";
import type { BuildContext } from "#libs/server/service-parts.ts";
import type { ServiceClients, ServiceDescriptor, ServiceName } from "#libs/rpc/service-clients.ts";
import type { Backends } from "./backends.ts";

/** What every service is built from; each takes the part it declares. */
export type ServiceContext = BuildContext<Backends, ServiceClients>;

export interface ServiceRow<N extends ServiceName> {
  /** Folder under services/: the process entry is services/<dir>/main.ts. */
  dir: string;
  /** Peers it calls: built (embedded) or started (mesh) before it. */
  calls: readonly ServiceName[];
  build(ctx: ServiceContext): Promise<BuiltService<ServiceDescriptor<N>>>;
}

export const SERVICES = {
  executor: { dir: "provider-executor", calls: [], build: async (ctx) => (await import("#services/provider-executor/build.ts")).buildExecutorService(ctx) },
  classifier: { dir: "classifier", calls: [], build: async (ctx) => (await import("#services/classifier/build.ts")).buildClassifierService(ctx) },
  router: { dir: "router", calls: ["executor"], build: async (ctx) => (await import("#services/router/build.ts")).buildRouterService(ctx) },
  ledger: { dir: "ledger", calls: [], build: async (ctx) => (await import("#services/ledger/build.ts")).buildLedgerService(ctx) },
  evaluator: { dir: "evaluator", calls: ["executor"], build: async (ctx) => (await import("#services/evaluator/build.ts")).buildEvaluatorService(ctx) },
  cache: { dir: "cache", calls: ["evaluator"], build: async (ctx) => (await import("#services/cache/build.ts")).buildCacheService(ctx) },
} as const satisfies { readonly [N in ServiceName]: ServiceRow<N> };

/** Build order (the table's order). */
export const SERVICE_ORDER = Object.keys(SERVICES) as ServiceName[];

export type BuiltServices = { [N in ServiceName]: Awaited<ReturnType<(typeof SERVICES)[N]["build"]>> };

/** Builds one row with the shared context; the logger is the service's own child. */
export function buildRow<N extends ServiceName>(name: N, ctx: ServiceContext): Promise<BuiltServices[N]> {
  const row = SERVICES[name] as unknown as { build(ctx: ServiceContext): Promise<BuiltServices[N]> };
  return row.build({ ...ctx, logger: ctx.logger.child({ service: name }) });
}
