// Preloaded (`node --import`) into a bench child by `npm run bench:stages`: times where one request's
// wall-clock time goes inside a proxy process, from Node's own diagnostics_channel events, so no source
// needs marks. Plain JavaScript: the children run compiled bundles without a TypeScript loader.
//
// Only requests alone in the process count (c=1): a request that starts while another is open spoils both.
// Each counted request becomes one line appended to $BENCH_STAGES_FILE (flushed every 500 ms and at exit):
//   {"t": epoch ms at its start, "send", "headers", "body", "finish", "idle": µs from its start}
// send: undici is about to write the upstream request (undici:client:sendHeaders, published just before the
// socket write); idle: a setImmediate queued then has run (the main thread was free again, the write included); headers: the upstream answer's headers; body: its end
// (undici:request:trailers); finish: the response to the client is written (http.server.response.finish).
// A stage the request never reached (a cache hit has no upstream call) is absent.
import { appendFileSync } from "node:fs";
import { subscribe } from "node:diagnostics_channel";
import { performance } from "node:perf_hooks";

const file = process.env.BENCH_STAGES_FILE;
if (file) {
  const us = () => performance.now() * 1000;
  // Open requests by their response object (both events carry it): a request that finishes is matched to
  // its own start even when others overlapped it.
  const open = new Map();
  let lines = [];
  /** The one open request, unless it overlapped another. */
  const alone = () => {
    if (open.size !== 1) return undefined;
    const r = open.values().next().value;
    return r.spoiled ? undefined : r;
  };
  const at = (key) => {
    const r = alone();
    if (r && r[key] === undefined) r[key] = us() - r.t0;
  };
  subscribe("http.server.request.start", ({ response }) => {
    const spoiled = open.size > 0;
    for (const r of open.values()) r.spoiled = true;
    open.set(response, { t0: us(), spoiled });
    // A response that never finishes (the client went away) must not spoil every request after it.
    response.once("close", () => open.delete(response));
  });
  subscribe("undici:client:sendHeaders", () => {
    const r = alone();
    if (!r || r.send !== undefined) return;
    at("send");
    setImmediate(() => {
      if (r.idle === undefined) r.idle = us() - r.t0;
    });
  });
  subscribe("undici:request:headers", () => at("headers"));
  subscribe("undici:request:trailers", () => at("body"));
  subscribe("http.server.response.finish", ({ response }) => {
    const r = open.get(response);
    if (!r) return;
    open.delete(response);
    if (r.spoiled) return;
    r.finish = us() - r.t0;
    const { t0, spoiled, ...stages } = r;
    const round = {};
    for (const [k, v] of Object.entries(stages)) round[k] = Math.round(v * 10) / 10;
    lines.push(JSON.stringify({ t: performance.timeOrigin + t0 / 1000, ...round }));
  });
  const flush = () => {
    if (lines.length === 0) return;
    appendFileSync(file, lines.join("\n") + "\n");
    lines = [];
  };
  setInterval(flush, 500).unref();
  process.on("exit", flush);
}
