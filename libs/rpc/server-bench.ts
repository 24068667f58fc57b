// Server- and client-side CPU per loopback call, for servers of the same ServiceImpl, each in its own
// child process: Connect-ES (connectNodeAdapter on node:http2), a @grpc/grpc-js Server, the binary-gRPC
// fast path alone (libs/server/grpc-fast-path.ts, "fast") and the dual-protocol server the mesh runs
// (libs/server/dual-protocol-server.ts, "dual": gRPC/h2c and Connect over HTTP/1.1 on one port, both
// on fast paths). The clients are mesh clients (libs/rpc/mesh-client.ts): grpc-js and connect-h1 by
// default, each against every server that speaks its protocol (connect-h1: HTTP/1.1, the dual server
// only). Unary = ClassifierService.Classify; streaming = ExecutorService.Execute yielding N messages.
// Runs are interleaved per round so drift on a shared machine hits them alike; the table shows the
// median of the rounds.
// Run: node --import tsx libs/rpc/server-bench.ts [calls=10000] [concurrency=32] [rounds=3]
// RPC_BENCH_SERVERS=connect,grpc-js,fast,dual picks servers (default connect,grpc-js,dual),
// RPC_BENCH_CHILD_FLAGS adds node flags to them; RPC_BENCH_CLIENT=grpc-js,connect-h1,connect picks
// clients (default grpc-js,connect-h1).
import { spawn, type ChildProcessByStdio } from "node:child_process";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { create, fromBinary, isMessage, toBinary, type DescMessage, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createHandlerContext, type Client, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { ClassifierService, type ClassifyRequest } from "#libs/gen/llmgw/classifier/v1/classifier_pb.ts";
import { Tier } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { ExecutorService, type ExecuteRequest } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { createDualRpcServer } from "#libs/server/dual-protocol-server.ts";
import { createFastRpcServer, rpcService, type RpcServiceBinding } from "#libs/server/grpc-fast-path.ts";
import { closeConnectH1Pools } from "./connect-h1-client.ts";
import { closeGrpcJsChannels } from "./grpc-js-client.ts";
import { createMeshClient, MESH_RPC_CLIENTS, type MeshRpcClient } from "./mesh-client.ts";

type Kind = "connect" | "grpc-js" | "fast" | "dual";
const KINDS: readonly Kind[] = ["connect", "grpc-js", "dual"];
/** Servers that speak HTTP/1.1 (connect-h1's protocol); every server speaks gRPC over h2c. */
const SERVES_H1: ReadonlySet<Kind> = new Set(["dual"]);

// ---- the service under test (same impl object for every server kind) ----

const completion = new TextEncoder().encode(
  JSON.stringify({
    id: "chatcmpl-bench",
    object: "chat.completion",
    created: 1_700_000_000,
    model: "gpt-4o-mini",
    choices: [{ index: 0, message: { role: "assistant", content: "Paris is the capital of France. ".repeat(8) }, finish_reason: "stop" }],
    usage: { prompt_tokens: 14, completion_tokens: 64, total_tokens: 78 },
  }),
);
const chunk = new TextEncoder().encode(JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: "Paris " } }] }));

const unimplemented = () => {
  throw new ConnectError("not in the bench", Code.Unimplemented);
};

function benchServices(): RpcServiceBinding[] {
  const classifier: ServiceImpl<typeof ClassifierService> = {
    async classify(req: ClassifyRequest) {
      return {
        tier: Tier.MEDIUM,
        category: "qa",
        confidence: 0.82,
        strongProbability: 0.41,
        features: { tokens: String(req.messages.length * 12), has_code: "false", turns: "1" },
        reasons: ["short factual question"],
        classifier: "rules",
      };
    },
    classifyBatch: unimplemented,
  };
  const executor: ServiceImpl<typeof ExecutorService> = {
    async *execute(req: ExecuteRequest) {
      const n = Number(req.purpose.slice(2)) || 2;
      for (let i = 0; i < n - 2; i++) yield { event: { case: "chunkJson", value: chunk } };
      yield { event: { case: "completionJson", value: completion } };
      yield {
        event: {
          case: "summary",
          value: { model: "gpt-4o-mini", provider: "openai", finishReason: "stop", latencyMs: 420n, usage: { inputTokens: 14n, outputTokens: 64n } },
        },
      };
    },
    getHealth: unimplemented,
    createBatch: unimplemented,
    getBatch: unimplemented,
    getBatchOutput: unimplemented,
    findBatch: unimplemented,
    cancelBatch: unimplemented,
    embed: unimplemented,
  };
  return [rpcService(ClassifierService, classifier), rpcService(ExecutorService, executor)];
}

// ---- (b) a @grpc/grpc-js Server serving a ServiceImpl ----

type AnyFn = (req: unknown, ctx: HandlerContext) => unknown;

function headersOf(md: grpc.Metadata): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(md.getMap())) if (typeof v === "string") h.append(k, v);
  return h;
}

function toGrpcError(e: unknown): Partial<grpc.ServiceError> {
  const ce = e instanceof ConnectError ? e : new ConnectError("internal error", Code.Internal);
  return { code: ce.code as number as grpc.status, details: ce.rawMessage };
}

function grpcJsServer(services: readonly RpcServiceBinding[]): grpc.Server {
  const server = new grpc.Server({ "grpc.max_receive_message_length": -1, "grpc.max_send_message_length": -1 });
  for (const { service, impl } of services) {
    const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
    const handlers: grpc.UntypedServiceImplementation = {};
    for (const method of service.methods as readonly DescMethod[]) {
      const input: DescMessage = method.input;
      const output: DescMessage = method.output;
      const fn = ((impl as Record<string, AnyFn>)[method.localName] as AnyFn).bind(impl);
      const streaming = method.methodKind === "server_streaming";
      def[method.localName] = {
        path: `/${service.typeName}/${method.name}`,
        requestStream: false,
        responseStream: streaming,
        requestSerialize: (v: unknown) => Buffer.from(toBinary(input, v as never)),
        requestDeserialize: (b: Buffer) => fromBinary(input, b),
        responseSerialize: (v: unknown) => {
          const bytes = toBinary(output, isMessage(v, output) ? v : create(output, v as never));
          return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        },
        responseDeserialize: (b: Buffer) => fromBinary(output, b),
      };
      const ctxOf = (md: grpc.Metadata, deadline: grpc.Deadline) =>
        createHandlerContext({
          service,
          method,
          protocolName: "grpc",
          requestMethod: "POST",
          url: `/${service.typeName}/${method.name}`,
          requestHeader: headersOf(md),
          timeoutMs: deadline instanceof Date ? deadline.getTime() - Date.now() : Number.isFinite(deadline) ? deadline - Date.now() : undefined,
        });
      if (!streaming) {
        handlers[method.localName] = ((call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
          const ctx = ctxOf(call.metadata, call.getDeadline());
          call.on("cancelled", () => ctx.abort(new ConnectError("cancelled", Code.Canceled)));
          Promise.resolve()
            .then(() => fn(call.request, ctx))
            .then(
              (res) => (ctx.abort(), cb(null, res)),
              (e: unknown) => (ctx.abort(e), cb(toGrpcError(e))),
            );
        }) as grpc.handleUnaryCall<unknown, unknown>;
      } else {
        handlers[method.localName] = ((call: grpc.ServerWritableStream<unknown, unknown>) => {
          const ctx = ctxOf(call.metadata, call.getDeadline());
          call.on("cancelled", () => ctx.abort(new ConnectError("cancelled", Code.Canceled)));
          void (async () => {
            try {
              for await (const m of fn(call.request, ctx) as AsyncIterable<unknown>) {
                if (!call.write(m)) await new Promise((r) => call.once("drain", r));
              }
              ctx.abort();
              call.end();
            } catch (e) {
              ctx.abort(e);
              call.emit("error", toGrpcError(e));
            }
          })();
        }) as grpc.handleServerStreamingCall<unknown, unknown>;
      }
    }
    server.addService(def, handlers);
  }
  return server;
}

// ---- child: one server, CPU reported on request ----

async function serve(kind: Kind): Promise<void> {
  const services = benchServices();
  let port: number;
  if (kind === "grpc-js") {
    const server = grpcJsServer(services);
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
  } else if (kind === "dual") {
    const { server } = createDualRpcServer(services);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    port = (server.address() as AddressInfo).port;
  } else {
    const server =
      kind === "fast"
        ? createFastRpcServer(services)
        : http2.createServer(connectNodeAdapter({ routes: (r) => services.forEach((s) => r.service(s.service, s.impl as ServiceImpl<DescService>)) }));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    port = (server.address() as AddressInfo).port;
  }
  console.log(String(port));
  const rl = createInterface({ input: process.stdin });
  rl.on("line", () => {
    const u = process.cpuUsage();
    console.log(String(u.user + u.system));
  });
  rl.on("close", () => process.exit(0));
}

// ---- parent ----

interface Child {
  kind: Kind;
  proc: ChildProcessByStdio<Writable, Readable, null>;
  lines: AsyncIterator<string>;
  address: string;
}

async function startChild(kind: Kind): Promise<Child> {
  // RPC_BENCH_CHILD_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the servers.
  const flags = process.env.RPC_BENCH_CHILD_FLAGS?.split(" ").filter(Boolean) ?? [];
  const proc = spawn(process.execPath, [...flags, "--import", "tsx", new URL(import.meta.url).pathname, "serve", kind], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const port = (await lines.next()).value as string;
  return { kind, proc, lines, address: `127.0.0.1:${port}` };
}

async function childCpuUs(c: Child): Promise<number> {
  c.proc.stdin.write("cpu\n");
  return Number((await c.lines.next()).value);
}

type Workload = "unary" | "stream2" | "stream16";
const WORKLOADS: readonly Workload[] = ["unary", "stream2", "stream16"];

interface Clients {
  classifier: Client<typeof ClassifierService>;
  executor: Client<typeof ExecutorService>;
}

const classifyReq = {
  context: { requestId: "req-0123456789", tenantId: "acme", keyId: "key-1", traceId: "0af7651916cd43dd8448eb211c80319c" },
  messages: [
    { role: "system", content: "You are a helpful assistant." },
    { role: "user", content: "What is the capital of France?" },
  ],
  maxTokens: 256,
};
const executeReq = (n: number) => ({
  context: classifyReq.context,
  candidates: [{ model: "gpt-4o-mini" }, { model: "claude-haiku-4-5" }],
  requestJson: new TextEncoder().encode(JSON.stringify({ model: "auto", messages: classifyReq.messages })),
  purpose: `n=${n}`,
});

async function once(c: Clients, w: Workload): Promise<void> {
  if (w === "unary") {
    await c.classifier.classify(classifyReq);
    return;
  }
  let got = 0;
  for await (const _ of c.executor.execute(executeReq(w === "stream2" ? 2 : 16))) got++;
  if (got !== (w === "stream2" ? 2 : 16)) throw new Error(`stream yielded ${got}`);
}

interface Sample {
  serverUs: number;
  clientUs: number;
  perSec: number;
}

async function measure(child: Child, c: Clients, w: Workload, calls: number, conc: number): Promise<Sample> {
  for (let i = 0; i < 500; i++) await once(c, w);
  const s0 = await childCpuUs(child);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let left = calls;
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (left-- > 0) await once(c, w);
    }),
  );
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  const s1 = await childCpuUs(child);
  return { serverUs: (s1 - s0) / calls, clientUs: (cpu.user + cpu.system) / calls, perSec: Math.round((calls / wallMs) * 1000) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  const calls = Number(process.argv[2] ?? 10_000);
  const conc = Number(process.argv[3] ?? 32);
  const rounds = Number(process.argv[4] ?? 3);
  const kinds = (process.env.RPC_BENCH_SERVERS?.split(",") as Kind[] | undefined) ?? KINDS;
  const clientKinds = (process.env.RPC_BENCH_CLIENT?.split(",") ?? ["grpc-js", "connect-h1"]) as MeshRpcClient[];
  for (const k of clientKinds) if (!MESH_RPC_CLIENTS.includes(k)) throw new Error(`RPC_BENCH_CLIENT: unknown client ${k}`);
  const children = await Promise.all(kinds.map(startChild));
  // One client set per (server, client kind) the server can answer; rows are named "server/client".
  const runs: { name: string; child: Child; clients: Clients }[] = [];
  for (const ch of children) {
    for (const ck of clientKinds) {
      if (ck === "connect-h1" && !SERVES_H1.has(ch.kind)) continue;
      runs.push({
        name: `${ch.kind}/${ck}`,
        child: ch,
        clients: { classifier: createMeshClient(ClassifierService, ch.address, ck), executor: createMeshClient(ExecutorService, ch.address, ck) },
      });
    }
  }
  const samples = new Map<string, Sample[]>();
  for (let r = 0; r < rounds; r++) {
    for (const w of WORKLOADS) {
      for (const run of runs) {
        const s = await measure(run.child, run.clients, w, w === "unary" ? calls : Math.round(calls / 2), conc);
        const key = `${run.name}|${w}`;
        samples.set(key, [...(samples.get(key) ?? []), s]);
        console.log(`round ${r + 1} ${w.padEnd(8)} ${run.name.padEnd(18)} server ${s.serverUs.toFixed(1).padStart(6)} µs/call  client ${s.clientUs.toFixed(1).padStart(6)} µs/call  ${s.perSec} calls/s`);
      }
    }
  }
  console.log(`\nmedian of ${rounds} rounds, client ${clientKinds.join(",")}, c=${conc} (CPU µs per call: server / client)`);
  console.log(`${"server/client".padEnd(19)}${WORKLOADS.map((w) => w.padStart(22)).join("")}`);
  for (const { name } of runs) {
    const cells = WORKLOADS.map((w) => {
      const ss = samples.get(`${name}|${w}`) ?? [];
      return `${median(ss.map((s) => s.serverUs)).toFixed(0)} / ${median(ss.map((s) => s.clientUs)).toFixed(0)}`.padStart(22);
    });
    console.log(`${name.padEnd(19)}${cells.join("")}`);
  }
  closeGrpcJsChannels();
  await closeConnectH1Pools();
  for (const ch of children) ch.proc.stdin.end();
  process.exit(0);
}

if (process.argv[2] === "serve") void serve(process.argv[3] as Kind);
else void main();
