// Mesh services connect to NATS JetStream the same way: URL from settings, stream provisioned once,
// reconnect forever (a broker restart must not kill a service).
import { connect } from "nats";
import type { Logger } from "#libs/log/logger.ts";
import { NatsEventBus } from "./nats-bus.ts";
import { installNatsRequestFix } from "./nats-request-fix.ts";
import { DEFAULT_BUS_NAMES, type BusNames } from "./subjects.ts";

export async function connectNatsBus(
  servers: string,
  logger: Logger,
  name: string,
  names: BusNames = DEFAULT_BUS_NAMES,
  opts: { publishTimeoutMs?: number } = {},
): Promise<{ bus: NatsEventBus; close: () => Promise<void>; connected: () => boolean }> {
  installNatsRequestFix();
  // noAsyncTraces: no Error (stack capture) per request; JetStream publishes are requests, two per event.
  const nc = await connect({ servers, name, maxReconnectAttempts: -1, reconnectTimeWait: 500, noAsyncTraces: true });
  let up = true;
  (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") up = false;
      if (s.type === "reconnect") up = true;
      logger.info({ type: s.type }, "nats status");
    }
  })().catch(() => undefined);
  // The connection closes for good only when we close it (reconnects are unlimited); an error here is logged, never thrown.
  nc.closed().then(
    (err) => {
      up = false;
      if (err) logger.warn({ err: err.message }, "nats connection closed");
    },
    () => undefined,
  );
  const bus = await NatsEventBus.create(nc, names, opts);
  logger.info({ servers, stream: names.stream }, "connected to NATS JetStream");
  return {
    bus,
    connected: () => up && !nc.isClosed(),
    close: async () => {
      await nc.drain().catch(() => nc.close());
    },
  };
}
