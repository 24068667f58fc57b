// `npx tsx test/bench/tracing-cost.ts [--requests N] [--rounds R]`
// What the edge's tracing hooks cost per request, side by side in one process: a Fastify route
// without them, with them and tracing off (the default), and with tracing on (spans made and
// exported to a local sink). Rounds interleave the three so background load hits them alike; the
// process's own CPU time per request is reported (less sensitive than wall time to a busy machine):
// read the ratios and the microseconds added per request.
import { createServer } from "node:http";
import { Command } from "commander";
import Fastify, { type FastifyInstance } from "fastify";
import { startTracing } from "#libs/tracing/tracing.ts";
import { registerTracing } from "#services/edge/tracing-hooks.ts";

const opts = new Command().option("--requests <n>", "requests per round and variant", "4000").option("--rounds <n>", "interleaved rounds", "5").parse().opts<{ requests: string; rounds: string }>();
const N = Number(opts.requests);
const ROUNDS = Number(opts.rounds);

function app(hooks: boolean): FastifyInstance {
  const a = Fastify();
  if (hooks) registerTracing(a);
  a.post("/v1/chat/completions", async (req) => ({ ok: true, n: (req.body as { n: number }).n }));
  return a;
}

/** CPU µs (user + system) of this process per request. */
async function run(a: FastifyInstance): Promise<number> {
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) await a.inject({ method: "POST", url: "/v1/chat/completions", payload: { n: i } });
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / N;
}

const sink = createServer((req, res) => req.resume().on("end", () => res.writeHead(200).end("{}")));
await new Promise<void>((r) => sink.listen(0, "127.0.0.1", () => r()));
const addr = sink.address();
const endpoint = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}/v1/traces`;

// The hooks decide on tracing when registered (as the edge does when it is built).
const bare = app(false);
const off = app(true);
const tracing = startTracing({ endpoint, headers: {} }, "bench");
const on = app(true);
await Promise.all([bare.ready(), off.ready(), on.ready()]);
const us = { bare: [] as number[], off: [] as number[], on: [] as number[] };
await run(bare);
await run(off);
for (let r = 0; r < ROUNDS; r++) {
  us.bare.push(await run(bare));
  us.off.push(await run(off));
  us.on.push(await run(on));
}
await tracing.stop();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const [b, f, o] = [median(us.bare), median(us.off), median(us.on)];
console.log(`requests ${N} x ${ROUNDS} rounds, median CPU µs per request (Fastify inject, one process)`);
console.log(`  no tracing hooks        ${b.toFixed(1)} µs`);
console.log(`  hooks, tracing off      ${f.toFixed(1)} µs  (${(f / b).toFixed(3)}x, +${(f - b).toFixed(1)} µs)`);
console.log(`  hooks, tracing on       ${o.toFixed(1)} µs  (${(o / b).toFixed(3)}x, +${(o - b).toFixed(1)} µs)`);
await Promise.all([bare.close(), off.close(), on.close()]);
sink.close();
