import { describe, expect, it } from "vitest";
import { checkSinceRange, parseUsd } from "./input-values.ts";

describe("admin input values", () => {
  it("takes amounts that fit numeric(30,12), as decimal strings", () => {
    expect(parseUsd(5, "x")).toBe("5");
    expect(parseUsd(0.0000001, "x")).toBe("0.0000001");
    expect(parseUsd("12.50", "x")).toBe("12.50");
    expect(parseUsd(undefined, "x")).toBe("");
  });

  it("refuses a 30-digit amount, a non-finite one, a negative one, a wrong type, naming the field", () => {
    for (const v of ["1".repeat(30), 1e30, Number.POSITIVE_INFINITY, Number.NaN, -1, "-1", "1e5", "0.1234567890123", true, [1], {}]) {
      expect(() => parseUsd(v, "hard_limit_usd"), JSON.stringify(v)).toThrow(/hard_limit_usd/);
    }
  });

  it("keeps 'since' between 2000 and now", () => {
    const now = Date.UTC(2026, 0, 1);
    expect(checkSinceRange(new Date(Date.UTC(2025, 5, 1)), "since", now).getUTCFullYear()).toBe(2025);
    for (const d of [new Date(-8.64e15), new Date(Date.UTC(1999, 11, 31)), new Date(8.64e15), new Date(Number.NaN)]) {
      expect(() => checkSinceRange(d, "since", now)).toThrow(/since/);
    }
  });
});
