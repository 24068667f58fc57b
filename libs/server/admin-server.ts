// /healthz (process alive), /readyz (own dependencies reachable; 503 while draining), /metrics.
import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";

export interface AdminOptions {
  host: string;
  port: number;
  registry: Registry;
  ready: () => Promise<boolean>;
  isDraining: () => boolean;
}

export async function startAdminServer(opts: AdminOptions): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const reply = (status: number, body: string, type = "text/plain; charset=utf-8") => {
      res.writeHead(status, { "content-type": type });
      res.end(body);
    };
    if (path === "/healthz") return reply(200, "ok\n");
    if (path === "/readyz") {
      if (opts.isDraining()) return reply(503, "draining\n");
      opts.ready().then(
        (ok) => reply(ok ? 200 : 503, ok ? "ready\n" : "not ready\n"),
        () => reply(503, "not ready\n"),
      );
      return;
    }
    if (path === "/metrics") {
      opts.registry.metrics().then(
        (text) => reply(200, text, opts.registry.contentType),
        (e: unknown) => reply(500, String(e)),
      );
      return;
    }
    reply(404, "not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address();
  return { server, port: typeof addr === "object" && addr ? addr.port : opts.port };
}
