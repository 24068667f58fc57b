// Serves one row of the service table behind its own gRPC server and admin port: the unit of the
// mesh, whether every row runs in its own process (run-service.ts) or all in one (mesh/compose.ts).
import type { DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { createRegistry, rpcMetrics } from "#libs/metrics/registry.ts";
import { rpcService } from "#libs/server/grpc-fast-path.ts";
import { instrument } from "#libs/rpc/instrument.ts";
import { withDependencyErrors } from "#libs/server/dependency-errors.ts";
import type { ServiceName } from "#libs/rpc/service-clients.ts";
import { startRpcService, type RunningRpcService } from "#libs/server/rpc-server.ts";
import { buildRow, type BuiltServices, type ServiceContext } from "./table.ts";

export interface ServedRow<N extends ServiceName> {
  built: BuiltServices[N];
  running: RunningRpcService;
}

export async function serveRow<N extends ServiceName>(
  name: N,
  ctx: Omit<ServiceContext, "registry">,
  at: { host?: string; rpcPort: number; adminPort: number; drainTimeoutMs?: number; defaultMetrics?: boolean },
): Promise<ServedRow<N>> {
  const registry = createRegistry(name, { defaults: at.defaultMetrics ?? true });
  const logger = ctx.logger.child({ service: name });
  const built = await buildRow(name, { ...ctx, registry });
  const running = await startRpcService({
    name,
    ...(at.host ? { host: at.host } : {}),
    rpcPort: at.rpcPort,
    adminPort: at.adminPort,
    // A failing database/Redis/broker answers Unavailable (503 at the edge), not Internal.
    services: [rpcService<DescService>(built.service, instrument<DescService>(built.service, withDependencyErrors<DescService>(built.service, built.impl as ServiceImpl<DescService>), rpcMetrics(registry), { logger, level: "info" }))],
    ready: built.ready,
    shutdown: built.close,
    logger,
    registry,
    ...(at.drainTimeoutMs ? { drainTimeoutMs: at.drainTimeoutMs } : {}),
  });
  return { built, running };
}
