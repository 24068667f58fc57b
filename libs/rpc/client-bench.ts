// Client-side cost of one loopback unary call, mesh client by mesh client (Connect gRPC transport,
// grpc-js, connect-h1), against the dual-protocol server the mesh runs (gRPC/h2c and Connect over
// HTTP/1.1 on one port) in a child process, so only the client's CPU is counted.
// Run: node --import tsx libs/rpc/client-bench.ts [calls=20000] [concurrency=32]
import { spawn } from "node:child_process";
import type { AddressInfo } from "node:net";
import { createClient, type Client } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus } from "#libs/gen/grpc/health/v1/health_pb.ts";
import { createDualRpcServer } from "#libs/server/dual-protocol-server.ts";
import { rpcService } from "#libs/server/rpc-routes.ts";
import { closeConnectH1Pools, createConnectH1Client } from "./connect-h1-client.ts";
import { closeGrpcJsChannels, createGrpcJsClient } from "./grpc-js-client.ts";
import { meshTransport } from "./mesh-client.ts";

async function serve(): Promise<void> {
  const { server } = createDualRpcServer([rpcService(Health, { check: async () => ({ status: HealthCheckResponse_ServingStatus.SERVING }) })]);
  server.listen(0, "127.0.0.1", () => console.log(String((server.address() as AddressInfo).port)));
  process.stdin.on("end", () => process.exit(0));
  process.stdin.resume();
}

async function run(name: string, client: Client<typeof Health>, calls: number, conc: number): Promise<void> {
  for (let i = 0; i < 2_000; i++) await client.check({ service: "warm" });
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let left = calls;
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (left-- > 0) await client.check({ service: "x" });
    }),
  );
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  const cpuUs = (cpu.user + cpu.system) / calls;
  console.log(`${name.padEnd(10)} c=${conc}: client CPU ${cpuUs.toFixed(1)} µs/call, ${Math.round((calls / wallMs) * 1000)} calls/s`);
}

async function main(): Promise<void> {
  const calls = Number(process.argv[2] ?? 20_000);
  const conc = Number(process.argv[3] ?? 32);
  const child = spawn(process.execPath, ["--import", "tsx", new URL(import.meta.url).pathname, "serve"], { stdio: ["pipe", "pipe", "inherit"] });
  const port = await new Promise<string>((resolve) => child.stdout.once("data", (b: Buffer) => resolve(b.toString().trim())));
  const address = `127.0.0.1:${port}`;
  const connect = createClient(Health, meshTransport(address));
  const kinds: Record<string, Client<typeof Health>> = { connect, "grpc-js": createGrpcJsClient(Health, address), "connect-h1": createConnectH1Client(Health, address) };
  // Interleaved, so drift on a shared machine hits all alike. RPC_BENCH_ONLY=grpc-js,connect picks
  // clients (e.g. one under --cpu-prof); RPC_BENCH_ROUNDS sets the rounds (default 2).
  const only = process.env.RPC_BENCH_ONLY?.split(",") ?? Object.keys(kinds);
  const rounds = Number(process.env.RPC_BENCH_ROUNDS ?? 2);
  for (let round = 0; round < rounds; round++) {
    for (const name of only) await run(name, kinds[name] as Client<typeof Health>, calls, conc);
  }
  closeGrpcJsChannels();
  await closeConnectH1Pools();
  child.stdin.end();
  process.exit(0);
}

if (process.argv[2] === "serve") void serve();
else void main();
