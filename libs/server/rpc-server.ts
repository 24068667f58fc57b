// Starts one service's RPC server (h2c: gRPC on a fast path, Connect and gRPC-Web through Connect-ES,
// all on one port, so `buf curl` works) plus its admin server, and drains both on SIGTERM/SIGINT.
import http2 from "node:http2";
import type { Registry } from "prom-client";
import { Health } from "#libs/gen/grpc/health/v1/health_pb.ts";
import type { Logger } from "#libs/log/logger.ts";
import { startAdminServer } from "./admin-server.ts";
import { healthService } from "./health-service.ts";
import { createFastRpcServer, rpcService, type RpcServiceBinding } from "./grpc-fast-path.ts";

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
  // gRPC takes a lean path on the server (framing + protobuf, about a seventh of Connect's CPU per
  // call); Connect and gRPC-Web fall through to connectNodeAdapter on the same port, so buf curl works.
  const rpc = createFastRpcServer([...spec.services, rpcService(Health, healthService(spec.ready, isDraining))]);
  const sessions = new Set<http2.ServerHttp2Session>();
  rpc.on("session", (s) => {
    sessions.add(s);
    // Connections are long-lived HTTP/2: end each after a while (GOAWAY; in-flight calls finish) so
    // clients reconnect and re-resolve, and new replicas behind a headless Service get their share.
    const age = setTimeout(() => s.close(), MAX_CONNECTION_AGE_MS * (0.9 + Math.random() * 0.2));
    age.unref();
    s.on("close", () => {
      clearTimeout(age);
      sessions.delete(s);
    });
  });
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
      // Ask clients to go away (GOAWAY) and let in-flight streams finish within the drain window.
      const closed = new Promise<void>((r) => rpc.close(() => r()));
      for (const s of sessions) s.close();
      const timeout = new Promise<void>((r) => setTimeout(r, spec.drainTimeoutMs ?? 10_000).unref());
      await Promise.race([closed, timeout]);
      for (const s of sessions) s.destroy();
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
