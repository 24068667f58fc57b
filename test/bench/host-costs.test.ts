import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { measureHostCosts, measureRoundTrips } from "./host-costs.ts";

describe("measureHostCosts", () => {
  it("times page faults and system calls as positive, finite microseconds", () => {
    const c = measureHostCosts({ faultBytes: 4 << 20, syscalls: 20_000, rounds: 2 });
    expect(Number.isFinite(c.page_fault_us) && c.page_fault_us > 0).toBe(true);
    expect(Number.isFinite(c.syscall_us) && c.syscall_us > 0).toBe(true);
  });

  it("counts real page faults: one per page it touches", () => {
    // The kernel's own count of this process's minor faults, before and after touching 2,048 fresh pages.
    const script = `
      const { readFileSync } = require("node:fs");
      const minflt = () => Number(readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ")[7]);
      const u8 = new Uint8Array(8 << 20);
      const before = minflt();
      for (let i = 0; i < u8.length; i += 4096) u8[i] = 1;
      console.log(minflt() - before);`;
    const faults = Number(execFileSync(process.execPath, ["-e", script], { encoding: "utf8" }).trim());
    expect(faults).toBeGreaterThanOrEqual(2048);
    expect(faults).toBeLessThan(2048 * 1.5);
  });
});

describe("measureRoundTrips", () => {
  it("times a loopback round trip to another process for each gap", async () => {
    const r = await measureRoundTrips({ gapsUs: [0, 100], trips: 50 });
    expect(Object.keys(r)).toEqual(["0", "100"]);
    for (const us of Object.values(r)) expect(Number.isFinite(us) && us > 0 && us < 1_000_000).toBe(true);
  });

  it("counts the peer's work in the round trip", async () => {
    const idle = await measureRoundTrips({ gapsUs: [0], trips: 30, work: 0 });
    const busy = await measureRoundTrips({ gapsUs: [0], trips: 30, work: 200 });
    expect(busy["0"]).toBeGreaterThan(idle["0"] as number);
  });
});
