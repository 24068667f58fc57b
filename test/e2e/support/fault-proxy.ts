// A loopback TCP proxy that plays a failing dependency on one fixed port: `cut()` drops every
// connection and refuses new ones (a crash, a network partition with RST), `stall()` keeps
// connections open but forwards nothing (a hung server, a partition that drops packets), `heal()`
// restores traffic and delivers what a stall held back. Tests run a real server behind it.
import { connect, createServer, type Server, type Socket } from "node:net";

export type FaultState = "up" | "cut" | "stalled";

export interface FaultProxy {
  port: number;
  /** host:port to give a client instead of the server's. */
  address: string;
  state(): FaultState;
  cut(): void;
  stall(): void;
  heal(): void;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  held: Array<{ to: Socket; data: Buffer }>;
}

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  let state: FaultState = "up";
  const pairs = new Set<Pair>();

  const forward = (pair: Pair, from: Socket, to: Socket): void => {
    from.on("data", (data: Buffer) => {
      if (state === "stalled") pair.held.push({ to, data });
      else if (!to.destroyed) to.write(data);
    });
  };

  const server: Server = createServer((client) => {
    client.on("error", () => client.destroy());
    if (state === "cut") {
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    upstream.on("error", () => upstream.destroy());
    const pair: Pair = { client, upstream, held: [] };
    pairs.add(pair);
    forward(pair, client, upstream);
    forward(pair, upstream, client);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.once("close", end);
    upstream.once("close", end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;

  const destroyAll = () => {
    for (const p of pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    pairs.clear();
  };

  return {
    port,
    address: `127.0.0.1:${port}`,
    state: () => state,
    cut() {
      state = "cut";
      destroyAll();
    },
    stall() {
      state = "stalled";
    },
    heal() {
      state = "up";
      for (const p of pairs) {
        for (const h of p.held.splice(0)) if (!h.to.destroyed) h.to.write(h.data);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        state = "cut";
        server.close(() => resolve());
        destroyAll();
      }),
  };
}
