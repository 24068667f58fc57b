import { describe, expect, it } from "vitest";
import { descendantsOf, mainThreadCpuUs, parseStatCpuUs, parseStatMinflt, parseStatPpid, parseStatusKb, processCpuUs } from "./procs.ts";

// A real /proc/<pid>/stat line, with a command name holding a space and a parenthesis.
const STAT = "4242 (node (tsx) x) S 4200 4242 4200 0 -1 4194560 12000 0 0 0 250 75 3 4 20 0 11 0 5000 1234567 30000 18446744073709551615";

describe("/proc parsing", () => {
  it("reads utime + stime after the last ')' of the command name, in µs at 100 Hz", () => {
    expect(parseStatCpuUs(STAT)).toBe((250 + 75) * 10_000);
    expect(parseStatPpid(STAT)).toBe(4200);
    expect(parseStatMinflt(STAT)).toBe(12000);
  });

  it("reads kB fields of /proc/<pid>/status", () => {
    const status = "Name:\tnode\nVmPeak:\t 1200000 kB\nVmHWM:\t  210500 kB\nVmRSS:\t  180224 kB\nThreads:\t11\n";
    expect(parseStatusKb(status, "VmRSS")).toBe(180224);
    expect(parseStatusKb(status, "VmHWM")).toBe(210500);
    // Kernel threads and zombies have no Vm lines.
    expect(parseStatusKb("Name:\tkworker/0:1\nState:\tI (idle)\n", "VmRSS")).toBeUndefined();
  });
});

describe("descendantsOf", () => {
  it("follows the parent chain from the roots and nothing else", () => {
    const parent = new Map([
      [10, 1],
      [11, 10],
      [12, 11],
      [20, 1],
      [21, 20],
    ]);
    expect(descendantsOf([10], parent).sort((a, b) => a - b)).toEqual([10, 11, 12]);
    expect(descendantsOf([10, 20], parent).sort((a, b) => a - b)).toEqual([10, 11, 12, 20, 21]);
    expect(descendantsOf([], parent)).toEqual([]);
  });
});

describe("mainThreadCpuUs", () => {
  it("counts the main thread's CPU, within the process's", () => {
    const main0 = mainThreadCpuUs(process.pid);
    const end = Date.now() + 250;
    while (Date.now() < end);
    const main = mainThreadCpuUs(process.pid) - main0;
    expect(main).toBeGreaterThanOrEqual(150_000);
    expect(mainThreadCpuUs(process.pid)).toBeLessThanOrEqual(processCpuUs(process.pid));
    expect(mainThreadCpuUs(999_999_999)).toBe(0);
  });
});
