// The provider simulator: a node:http server speaking the OpenAI and Anthropic wire protocols, so the official
// SDKs work against it unchanged (OpenAI baseURL = sim.url + "/v1", Anthropic baseURL = sim.url). This file owns
// I/O (sockets, latency, pacing, shutdown); decisions live in routes.ts and the protocol modules.
//
// Endpoints: POST /v1/chat/completions, POST /v1/messages, POST /v1/messages/count_tokens, POST /v1/embeddings,
// GET /v1/models[/:id] (Anthropic shape when anthropic-version is sent), POST /v1/files, GET /v1/files/:id[/content],
// POST /v1/batches, GET /v1/batches[/:id], POST /v1/batches/:id/cancel (batches.ts), Anthropic Message Batches:
// POST|GET /v1/messages/batches, GET|DELETE /v1/messages/batches/:id, GET .../:id/results, POST .../:id/cancel (anthropic-batches.ts;
// per-line failures and delays for both: batch-lines.ts), and control: POST|DELETE /_sim/faults,
// GET /_sim/stats, GET /healthz.
//
// Markers in the last user message: [sim:429] [sim:500] [sim:503] [sim:timeout] [sim:truncate] [sim:refuse]
// [sim:slow=MS] [sim:len=N] [sim:hard] (difficulty 0.7) [sim:difficulty=X] [sim:tool] / [sim:tool=NAME].
// A model answers well when its skill >= the prompt's difficulty; below it the answer opens with SIM_HEDGE_PHRASE,
// and more than 0.25 below it is also cut short (finish_reason "length" / stop_reason "max_tokens").
// Replay mode (options.replay, replay.ts): mapped models answer known benchmark prompts with recorded answers.
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { vocabulary } from "./answers.ts";
import { CHAT_PATHS, InFlightCounter } from "./in-flight.ts";
import { DEFAULT_MODELS } from "./catalogue.ts";
import type { JsonOutcome, Outcome, SseOutcome } from "./outcome.ts";
import { isReplay, loadReplay } from "./replay.ts";
import { route } from "./routes.ts";
import { SimState } from "./state.ts";
import type { SimFaultRule, Simulator, SimulatorOptions } from "./types.ts";

export type { SimFaultRule, SimModelSpec, SimReplayOptions, SimStats, Simulator, SimulatorOptions } from "./types.ts";
export { DEFAULT_MODELS } from "./catalogue.ts";
export { SIM_HEDGE_PHRASE, SIM_REFUSAL } from "./answers.ts";
export { HARD_DIFFICULTY } from "./markers.ts";
export { BATCH_DELAY_MARKER, BATCH_DELAY_METADATA, BATCH_EXPIRE_MARKER, BATCH_FAIL_MARKER, simBatchLineFails } from "./batch-lines.ts";

const MAX_BODY_BYTES = 256 * 1024 * 1024;

interface Io {
  state: SimState;
  closing: boolean;
  latencyMs: number;
  tps: number;
  timers: Set<NodeJS.Timeout>;
  inFlight: InFlightCounter;
}

function schedule(io: Io, res: ServerResponse, delayMs: number, fn: () => void): void {
  const t = setTimeout(() => {
    io.timers.delete(t);
    fn();
  }, delayMs);
  io.timers.add(t);
  res.once("close", () => {
    clearTimeout(t);
    io.timers.delete(t);
  });
}

function writeJson(io: Io, res: ServerResponse, o: JsonOutcome, anthropic: boolean): void {
  const headers: OutgoingHttpHeaders = {
    "content-type": o.contentType ?? "application/json",
    "content-length": Buffer.byteLength(o.body),
    [anthropic ? "request-id" : "x-request-id"]: io.state.nextId("req_"),
  };
  if (o.retryAfterSec !== undefined) headers["retry-after"] = String(o.retryAfterSec);
  res.writeHead(o.status, headers);
  res.end(o.body);
}

function writeSse(io: Io, res: ServerResponse, o: SseOutcome, anthropic: boolean): void {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    [anthropic ? "request-id" : "x-request-id"]: io.state.nextId("req_"),
  });
  if (io.tps <= 0) {
    res.end(o.frames.join(""));
    return;
  }
  // Paced: structural frames go out at once; token frames at tokensPerSecond, the first one at time to first byte.
  const start = performance.now();
  let i = 0;
  let emitted = 0;
  let timer: NodeJS.Timeout | undefined;
  // One close listener per stream (not per tick), so a client going away stops the pacing.
  res.once("close", () => {
    if (timer !== undefined) {
      clearTimeout(timer);
      io.timers.delete(timer);
    }
  });
  const tick = (): void => {
    if (timer !== undefined) io.timers.delete(timer);
    timer = undefined;
    if (res.destroyed) return;
    const allowed = Math.floor(((performance.now() - start) * io.tps) / 1000) + 1;
    let chunk = "";
    while (i < o.frames.length) {
      const tokens = o.frameTokens[i] ?? 0;
      if (tokens > 0 && emitted >= allowed) break;
      emitted += tokens;
      chunk += o.frames[i] ?? "";
      i++;
    }
    if (i >= o.frames.length) {
      res.end(chunk);
      return;
    }
    if (chunk.length > 0) res.write(chunk);
    const dueMs = (emitted * 1000) / io.tps - (performance.now() - start);
    timer = setTimeout(tick, Math.max(1, dueMs));
    io.timers.add(timer);
  };
  tick();
}

/** Paths that model a provider call; control, model-list, file and batch endpoints answer without latency. */
const INFERENCE_PATHS = new Set(["/v1/chat/completions", "/v1/messages", "/v1/embeddings"]);

function send(io: Io, res: ServerResponse, o: Outcome, anthropic: boolean, inference: boolean): void {
  if (o.kind === "hang") return; // [sim:timeout]: the client gives up; close() destroys the socket
  let delay = (inference ? io.latencyMs : 0) + o.extraDelayMs;
  if (o.kind === "json" && io.tps > 0 && o.status === 200) delay += (o.outputTokens * 1000) / io.tps;
  const write = (): void => (o.kind === "json" ? writeJson(io, res, o, anthropic) : writeSse(io, res, o, anthropic));
  if (delay > 0) schedule(io, res, delay, write);
  else write();
}

function handle(io: Io, req: IncomingMessage, res: ServerResponse): void {
  if (io.closing) {
    req.socket.destroy(); // arrived while close() runs: never leave a client waiting on a dead simulator
    return;
  }
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const path = q >= 0 ? url.slice(0, q) : url;
  const method = req.method ?? "GET";
  const anthropic = req.headers["anthropic-version"] !== undefined || path.startsWith("/v1/messages");
  if (CHAT_PATHS.has(path)) res.once("close", io.inFlight.enter());
  const chunks: Buffer[] = [];
  let size = 0;
  req.on("data", (c: Buffer) => {
    size += c.length;
    if (size <= MAX_BODY_BYTES) chunks.push(c);
  });
  req.on("end", () => {
    if (size > MAX_BODY_BYTES) {
      res.writeHead(413, { "content-type": "application/json" }).end('{"error":{"message":"Request too large","type":"invalid_request_error","param":null,"code":null}}');
      return;
    }
    const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    const query = q >= 0 ? new URLSearchParams(url.slice(q + 1)) : undefined;
    const baseUrl = `http://${req.headers.host ?? "127.0.0.1"}`;
    let outcome: Outcome;
    try {
      outcome = route(io.state, { method, path, body, contentType: req.headers["content-type"], anthropic, baseUrl, ...(query !== undefined ? { query } : {}) });
    } catch (err) {
      // A simulator bug must surface as a visible 500, not a hung client.
      const message = err instanceof Error ? err.message : String(err);
      outcome = { kind: "json", status: 500, body: JSON.stringify({ error: { message: `simulator error: ${message}`, type: "server_error", param: null, code: null } }), outputTokens: 0, extraDelayMs: 0 };
    }
    send(io, res, outcome, anthropic, INFERENCE_PATHS.has(path));
  });
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  vocabulary(); // builds the tokenizer once per process, before the first request rather than during it
  const state = new SimState(
    opts.models ?? DEFAULT_MODELS,
    opts.latencyMs ?? 0,
    opts.tokensPerSecond ?? 0,
    opts.errorRate ?? 0,
    opts.seed ?? 42,
    opts.batchDelayMs ?? 0,
    opts.batchFailRate ?? 0,
  );
  if (opts.replay !== undefined) {
    const replay = isReplay(opts.replay) ? opts.replay : loadReplay(opts.replay.files, opts.replay);
    // A mistyped model would silently fall back to simulated answers and skew a benchmark: refuse it.
    for (const m of [...replay.mapping.weakModels, ...replay.mapping.strongModels]) {
      if (state.chatModel(m) === undefined) throw new Error(`replay: model ${m} is not a chat model of this simulator`);
    }
    state.replay = replay;
  }
  const io: Io = { state, closing: false, latencyMs: state.latencyMs, tps: state.tokensPerSecond, timers: new Set(), inFlight: new InFlightCounter() };
  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => handle(io, req, res));
  server.headersTimeout = 60_000;
  // Own socket tracking: closeAllConnections() can miss a socket accepted just before close() whose request has
  // not been parsed yet, which would leave that client hanging until its own timeout.
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    if (io.closing) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    addFault: (rule: SimFaultRule) => state.faults.add(rule),
    clearFaults: () => state.faults.clear(),
    stats: () => state.stats(),
    inFlight: () => io.inFlight.stats(),
    resetInFlightMax: () => io.inFlight.resetMax(),
    ...(state.replay !== undefined ? { replay: state.replay } : {}),
    close: () =>
      new Promise<void>((resolve) => {
        io.closing = true;
        for (const t of io.timers) clearTimeout(t);
        io.timers.clear();
        server.close(() => resolve());
        // Includes [sim:timeout] sockets, which would otherwise hold close() (and their clients) forever.
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
      }),
  };
}
