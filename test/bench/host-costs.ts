// What the host charges for the two kernel entries a gateway pays most often: a minor page fault (first
// touch of a fresh page: V8 heap growth, buffers) and a plain system call (every socket read, write
// and epoll wait). They differ by an order of magnitude between hosts of this project's CI (a
// paravirtualised guest measured 12-15 µs per fault and 1.2 µs per call, where bare metal takes well
// under 1 µs and ~0.1 µs), and they scale every CPU-per-request column, so the bench prints them beside
// the load average to make runs on different hosts comparable.

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
