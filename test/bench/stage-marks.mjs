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
  let cur = null;
  let lines = [];
  const at = (key) => {
    if (cur && !cur.spoiled && cur[key] === undefined) cur[key] = us() - cur.t0;
  };
  subscribe("http.server.request.start", () => {
    if (cur) cur.spoiled = true;
    const t0 = us();
    cur = cur ? { t0, spoiled: true } : { t0, spoiled: false };
  });
  subscribe("undici:client:sendHeaders", () => {
    if (!cur || cur.spoiled || cur.send !== undefined) return;
    at("send");
    const r = cur;
    setImmediate(() => {
      if (r.idle === undefined) r.idle = us() - r.t0;
    });
  });
  subscribe("undici:request:headers", () => at("headers"));
  subscribe("undici:request:trailers", () => at("body"));
  subscribe("http.server.response.finish", () => {
    if (!cur) return;
    const r = cur;
    cur = null;
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
