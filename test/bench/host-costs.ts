// What the host charges for the two kernel entries a gateway pays most often: a minor page fault (first
// touch of a fresh page: V8 heap growth, buffers) and a plain system call (every socket read, write
// and epoll wait). They differ by an order of magnitude between hosts of this project's CI (a
// paravirtualised guest measured 12-15 µs per fault and 1.2 µs per call, where bare metal takes well
// under 1 µs and ~0.1 µs), and they scale every CPU-per-request column, so the bench prints them beside
// the load average to make runs on different hosts comparable.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { connect } from "node:net";
import { median } from "./stats.ts";

export interface HostCosts {
  /** Microseconds per first write to a fresh 4 KiB page (the best of `rounds`). */
  page_fault_us: number;
  /** Microseconds per getuid(2), a system call with no work of its own (the best of `rounds`). */
  syscall_us: number;
}

const PAGE = 4096;

export function measureHostCosts(opts: { faultBytes?: number; syscalls?: number; rounds?: number } = {}): HostCosts {
  const bytes = opts.faultBytes ?? 64 << 20;
  const calls = opts.syscalls ?? 200_000;
  const rounds = opts.rounds ?? 3;
  let fault = Infinity;
  let sys = Infinity;
  for (let r = 0; r < rounds; r++) {
    // A large zero-filled ArrayBuffer comes straight from mmap: none of its pages is resident until written.
    const pages = new Uint8Array(bytes);
    let t0 = process.hrtime.bigint();
    for (let i = 0; i < bytes; i += PAGE) pages[i] = 1;
    fault = Math.min(fault, Number(process.hrtime.bigint() - t0) / 1000 / (bytes / PAGE));
    t0 = process.hrtime.bigint();
    // process.getuid is a direct getuid(2): not served from the vDSO, no libuv or allocation in between.
    for (let i = 0; i < calls; i++) process.getuid?.();
    sys = Math.min(sys, Number(process.hrtime.bigint() - t0) / 1000 / calls);
  }
  return { page_fault_us: fault, syscall_us: sys };
}

/** Median loopback TCP round trip to an idle peer process, microseconds, by how long the caller worked before sending. */
export type RoundTrips = Record<string, number>;

// The peer: for every byte it reads, WORK rounds of JSON work on a 2 kB object (about what a small HTTP
// service does per request), then the byte back.
const ECHO_PEER = `
  const doc = { id: "x".repeat(16), choices: Array.from({ length: 20 }, (_, i) => ({ index: i, text: "word ".repeat(12), n: i * 1.5 })) };
  const work = Number(process.argv[1] || 0);
  let sink = 0;
  const s = require("node:net").createServer((c) => { c.setNoDelay(true); c.on("data", (d) => { for (let i = 0; i < work; i++) sink += JSON.parse(JSON.stringify(doc)).choices.length; c.write(d); }); });
  s.listen(0, "127.0.0.1", () => console.log(s.address().port));`;

/**
 * One byte to an echo process and back, over loopback TCP as the gateway talks to a provider and a client,
 * after the caller spun `gap` µs on its own core. A gateway's own work at c=1 is such a gap for every
 * process it talks to: each waits idle meanwhile, and on a guest whose idle vCPU halts (no halt-polling)
 * its wake-up costs more after a longer gap (+15-50 µs after 500 µs on the hosts of 2026-12-02).
 */
export async function measureRoundTrips(opts: { gapsUs?: readonly number[]; trips?: number; work?: number } = {}): Promise<RoundTrips> {
  const gaps = opts.gapsUs ?? [0, 200, 500, 1000];
  const trips = opts.trips ?? 1500;
  const peer = spawn(process.execPath, ["-e", ECHO_PEER, String(opts.work ?? 0)], { stdio: ["ignore", "pipe", "inherit"] });
  let sock: ReturnType<typeof connect> | undefined;
  try {
    const port = await new Promise<number>((resolve, reject) => {
      peer.once("error", reject);
      peer.once("exit", (code) => reject(new Error(`round-trip peer exited (${code}) before listening`)));
      peer.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
    });
    const s = connect(port, "127.0.0.1");
    sock = s;
    s.setNoDelay(true);
    await once(s, "connect");
    const one = Buffer.from([1]);
    const trip = (): Promise<void> => new Promise((resolve) => { s.once("data", () => resolve()); s.write(one); });
    const spin = (us: number): void => { const end = performance.now() + us / 1000; while (performance.now() < end); };
    for (let i = 0; i < 300; i++) await trip();
    const out: RoundTrips = {};
    // Interleaved: each gap sees the same background load.
    const lat = new Map<number, number[]>(gaps.map((g) => [g, []]));
    for (let i = 0; i < trips; i++) {
      for (const g of gaps) {
        spin(g);
        const t0 = performance.now();
        await trip();
        lat.get(g)?.push((performance.now() - t0) * 1000);
      }
    }
    for (const [g, l] of lat) out[String(g)] = median(l);
    return out;
  } finally {
    sock?.destroy();
    peer.kill();
  }
}
