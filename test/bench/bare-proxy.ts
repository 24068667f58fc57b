// Child process for the `bare` target: the floor any Node gateway stands on. node:http in, the body
// read and JSON.parse'd (a gateway has to look at it), re-serialised and forwarded to the simulator's
// /v1/chat/completions over an undici keep-alive Pool, the answer returned with its status and
// content-type. No auth, routing, logging or accounting. Prints {url} when ready.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Pool } from "undici";

const upstream = process.env.BENCH_SIM_URL;
if (!upstream) throw new Error("BENCH_SIM_URL is required");
const CHAT_PATH = "/v1/chat/completions";
const pool = new Pool(upstream, { connections: 256, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 30_000, bodyTimeout: 30_000 });

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function fail(res: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({ error: { message, type: "bare_proxy_error", param: null, code: null } });
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== "POST" || req.url !== CHAT_PATH) return fail(res, 404, "not found");
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readBody(req));
  } catch {
    return fail(res, 400, "body is not JSON");
  }
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (typeof req.headers.authorization === "string") headers.authorization = req.headers.authorization;
  try {
    const up = await pool.request({ path: CHAT_PATH, method: "POST", headers, body: JSON.stringify(parsed) });
    const answer = Buffer.from(await up.body.arrayBuffer());
    const type = up.headers["content-type"];
    res.writeHead(up.statusCode, { "content-type": typeof type === "string" ? type : "application/json", "content-length": answer.length });
    res.end(answer);
  } catch (e) {
    if (res.headersSent) res.destroy();
    else fail(res, 502, e instanceof Error ? e.message : String(e));
  }
}

const server = createServer((req, res) => void handle(req, res));
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const a = server.address();
  const port = typeof a === "object" && a ? a.port : 0;
  console.log(JSON.stringify({ url: `http://127.0.0.1:${port}` }));
});

process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close();
  void pool.close().finally(() => process.exit(0));
});
