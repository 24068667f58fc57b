import { Decimal } from "decimal.js";
import { describe, expect, it } from "vitest";
import { periodKey, usdToNanoCeil } from "./budget.ts";

describe("usdToNanoCeil", () => {
  // The Decimal form it replaces on short amounts, kept as the reference.
  const reference = (usd: string): number => new Decimal(usd).mul(1e9).ceil().toNumber();

  it("equals the Decimal ceil on short and long amounts alike", () => {
    const cases = [
      "0", "1", "0.5", "0.000000001", "0.0000000001", "0.0000000010", "0.00000000100000", "0.00004467", "0.04346",
      "999999.99999999999999", "999999.999999999", "123456", "0.12345678912345", "0.123456789123456789",
      "1234567.5", "0001.25", "12.000000000000001", "5.0000000000000000000001", "0.00000000000000000000019",
    ];
    for (const usd of cases) expect(usdToNanoCeil(usd), usd).toBe(reference(usd));
    for (let i = 0; i < 2_000; i++) {
      const usd = `${Math.floor(Math.random() * 10 ** (1 + (i % 6)))}.${String(Math.floor(Math.random() * 1e14)).padStart(1 + (i % 14), "0")}`;
      expect(usdToNanoCeil(usd), usd).toBe(reference(usd));
    }
  });
});

describe("periodKey", () => {
  it("names the UTC day and month of each time, across day and month ends", () => {
    const times = ["2026-01-31T23:59:59.999Z", "2026-02-01T00:00:00.000Z", "2026-02-01T12:00:00.000Z", "2025-12-31T23:59:59.999Z", "2026-01-31T00:00:00.000Z", "1969-12-31T23:00:00.000Z"];
    for (const iso of times) {
      const at = new Date(iso);
      expect(periodKey("day", at), iso).toBe(iso.slice(0, 10));
      expect(periodKey("month", at), iso).toBe(iso.slice(0, 7));
    }
  });

  it("throws on an invalid date, as toISOString does", () => {
    expect(() => periodKey("day", new Date(Number.NaN))).toThrow(RangeError);
  });
});
