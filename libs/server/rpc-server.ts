// Starts one service's RPC server (HTTP/1.1 and h2c on one port: Connect binary over HTTP/1.1 and
// gRPC over HTTP/2 on fast paths, Connect JSON and gRPC-Web through Connect-ES, so `buf curl` works)
// plus its admin server, and drains both on SIGTERM/SIGINT.
import type { Registry } from "prom-client";
import { Health } from "#libs/gen/grpc/health/v1/health_pb.ts";
import type { Logger } from "#libs/log/logger.ts";
import { startAdminServer } from "./admin-server.ts";
import { healthService } from "./health-service.ts";
import { createDualRpcServer } from "./dual-protocol-server.ts";
import { rpcService, type RpcServiceBinding } from "./rpc-routes.ts";

export interface RpcServiceSpec {
  name: string;
  host?: string;
  rpcPort: number;
  adminPort: number;
  /** The services this server speaks (plus grpc.health.v1, added here). */
  services: readonly RpcServiceBinding[];
  ready: () => Promise<boolean>;
  /** Closes the service's own dependencies (pools, consumers) after the servers stop. */
  shutdown: () => Promise<void>;
  logger: Logger;
  registry: Registry;
  drainTimeoutMs?: number;
}

export interface RunningRpcService {
  rpcPort: number;
  adminPort: number;
  stop(): Promise<void>;
}

/** How long a client connection lives before the server asks it to reconnect (±10% jitter). */
export const MAX_CONNECTION_AGE_MS = 120_000;

export async function startRpcService(spec: RpcServiceSpec): Promise<RunningRpcService> {
  const host = spec.host ?? "0.0.0.0";
  let draining = false;
  const isDraining = () => draining;
  // The mesh's clients speak Connect over HTTP/1.1 (cheapest per call on Node) or gRPC over HTTP/2:
  // both take a lean path (framing + protobuf, the impl called directly); the rest goes to Connect-ES.
  // Connections end after a while so clients reconnect and re-resolve, and new replicas behind a
  // headless Service get their share.
  const dual = createDualRpcServer([...spec.services, rpcService(Health, healthService(spec.ready, isDraining))], { maxConnectionAgeMs: MAX_CONNECTION_AGE_MS });
  const rpc = dual.server;
  await new Promise<void>((resolve, reject) => {
    rpc.once("error", reject);
    rpc.listen(spec.rpcPort, host, () => resolve());
  });
  const rpcAddr = rpc.address();
  const rpcPort = typeof rpcAddr === "object" && rpcAddr ? rpcAddr.port : spec.rpcPort;
  const admin = await startAdminServer({ host, port: spec.adminPort, registry: spec.registry, ready: spec.ready, isDraining });
  spec.logger.info({ rpcPort, adminPort: admin.port }, `${spec.name} listening`);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      draining = true;
      spec.logger.info(`${spec.name} draining`);
      // Ask clients to go away (GOAWAY, connection: close) and let in-flight calls finish within the drain window.
      await dual.stop(spec.drainTimeoutMs ?? 10_000);
      await new Promise<void>((r) => admin.server.close(() => r()));
      await spec.shutdown();
      spec.logger.info(`${spec.name} stopped`);
    })();
    return stopping;
  };
  return { rpcPort, adminPort: admin.port, stop };
}

/** For a service's main.ts: stop gracefully on SIGTERM/SIGINT, then exit. */
export function exitOnSignals(stop: () => Promise<void>, logger: Logger): void {
  const onSignal = (sig: NodeJS.Signals) => {
    logger.info({ signal: sig }, "shutting down");
    stop().then(
      () => process.exit(0),
      (e: unknown) => {
        logger.error({ err: e }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
}
