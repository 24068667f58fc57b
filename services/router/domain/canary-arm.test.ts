import { describe, expect, it } from "vitest";
import { inCanary, unitHash } from "./canary-arm.ts";

describe("canary arm", () => {
  it("is sticky per session and splits close to the share within a tenant", () => {
    let n = 0;
    for (let s = 0; s < 4000; s++) {
      const a = inCanary(0.25, "t1", `session-${s}`, `r-${s}`);
      expect(inCanary(0.25, "t1", `session-${s}`, `other-request-${s}`)).toBe(a);
      if (a) n++;
    }
    expect(n / 4000).toBeGreaterThan(0.22);
    expect(n / 4000).toBeLessThan(0.28);
  });

  it("places each tenant's sessions independently", () => {
    const same = Array.from({ length: 200 }, (_, s) => inCanary(0.5, "a", `s${s}`, "") === inCanary(0.5, "b", `s${s}`, "")).filter(Boolean).length;
    expect(same).toBeGreaterThan(60);
    expect(same).toBeLessThan(140);
  });

  it("treats share 0 and 1 as none and all, and hashes into [0, 1)", () => {
    expect(inCanary(0, "t", "s", "r")).toBe(false);
    expect(inCanary(1, "t", "s", "r")).toBe(true);
    for (const k of ["", "x", "\u0000", "a".repeat(1000)]) {
      const u = unitHash(k);
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
    }
  });
});
