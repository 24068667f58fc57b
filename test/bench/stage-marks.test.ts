// stage-marks.mjs in a real process: a node:http proxy in front of a node:http upstream over undici, the
// preload loaded with --import, one client; and the arithmetic that turns its lines into steps.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { parseStageLines, STEPS, stepMedians, type StageRecord } from "./stage-stats.ts";

// Sequential requests through the proxy (alone in the process: timed), then two at once (spoiled: not timed),
// then one more alone (timed again).
// Each upstream request arrives in one segment here (small body), so one `data` event is one request.
const SCRIPT = `
import { createServer } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { Pool } from "undici";
const listen = (s) => new Promise((r) => s.listen(0, "127.0.0.1", () => r(s.address().port)));
// The upstream speaks HTTP by hand: a node:http server here would be a second request in the process.
const upPort = await listen(createTcpServer((sock) => sock.on("data", () => setTimeout(() => sock.write("HTTP/1.1 200 OK\\r\\ncontent-length: 2\\r\\n\\r\\n{}"), 5))));
const pool = new Pool("http://127.0.0.1:" + upPort);
const proxyPort = await listen(createServer(async (req, res) => {
  for await (const _ of req);
  const up = await pool.request({ path: "/", method: "POST", body: "{}" });
  res.end(await up.body.text());
}));
const client = new Pool("http://127.0.0.1:" + proxyPort, { connections: 2 });
const one = async () => (await client.request({ path: "/", method: "POST", body: "{}" })).body.text();
for (let i = 0; i < 5; i++) await one();
await Promise.all([one(), one()]);
await one();
process.exit(0);
`;

describe("stage-marks.mjs", () => {
  it("times each request alone in the process at Node's own events, and drops overlapping ones", () => {
    const dir = mkdtempSync(join(tmpdir(), "llmgw-stage-marks-"));
    try {
      const file = join(dir, "stages.ndjson");
      const preload = pathToFileURL(resolve("test/bench/stage-marks.mjs")).href;
      const r = spawnSync(process.execPath, [`--import=${preload}`, "--input-type=module", "-e", SCRIPT], { env: { ...process.env, BENCH_STAGES_FILE: file }, encoding: "utf8", timeout: 30_000 });
      expect(r.status, r.stderr).toBe(0);
      const records = parseStageLines(readFileSync(file, "utf8"));
      expect(records).toHaveLength(6);
      for (const rec of records) {
        // Points in the order a proxied request passes them; the upstream waits 5 ms before answering. Node's
        // timers count from the loop's cached whole-millisecond clock, so a 5 ms timer can fire up to about 1 ms
        // early by performance.now(): a margin of 3 ms still tells the wait apart from none.
        expect(rec.send).toBeGreaterThan(0);
        expect(rec.idle).toBeGreaterThanOrEqual(rec.send!);
        expect(rec.headers).toBeGreaterThan(rec.send! + 3000);
        expect(rec.body).toBeGreaterThanOrEqual(rec.headers!);
        expect(rec.finish).toBeGreaterThanOrEqual(rec.body!);
        expect(Math.abs(rec.t - Date.now())).toBeLessThan(60_000);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("stepMedians", () => {
  const rec = (t: number, k: number): StageRecord => ({ t, send: 10 * k, idle: 12 * k, headers: 50 * k, body: 51 * k, finish: 60 * k });

  it("takes the median of each step over the records that started in the window", () => {
    const records = [rec(1_000, 1), rec(1_001, 2), rec(1_002, 3), rec(5_000, 100)];
    const { n, steps } = stepMedians(records, 1_000, 2_000);
    expect(n).toBe(3);
    const byName = Object.fromEntries(STEPS.map((s, i) => [s.name.trim(), steps[i]]));
    expect(byName["request start → upstream request sent"]).toBe(20);
    expect(byName["of which from the send: main thread busy (the write included)"]).toBe(4);
    expect(byName["upstream request sent → answer's headers"]).toBe(80);
    expect(byName["answer's headers → its end"]).toBe(2);
    expect(byName["answer's end → response written"]).toBe(18);
    expect(byName["total inside the process"]).toBe(120);
  });

  it("leaves out a step no record reached (a cache hit calls no provider)", () => {
    const { n, steps } = stepMedians([{ t: 1, finish: 40 }], 0, 10);
    expect(n).toBe(1);
    expect(steps.at(-1)).toBe(40);
    expect(steps.slice(0, -1).every((s) => s === undefined)).toBe(true);
  });

  it("parses the preload's lines, skipping blank and partial ones", () => {
    expect(parseStageLines('{"t":1,"send":2,"finish":9}\n\n{"t":2}\n')).toEqual([{ t: 1, send: 2, finish: 9 }]);
  });
});
