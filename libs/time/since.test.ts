import { describe, expect, it } from "vitest";
import { parseSince, requireSince } from "./since.ts";

const NOW = Date.parse("2026-12-03T12:00:00Z");

describe("parseSince", () => {
  it("reads durations back from now, with or without a space, in any case", () => {
    expect(parseSince("7d", NOW)?.toISOString()).toBe("2026-11-26T12:00:00.000Z");
    expect(parseSince("24h", NOW)?.toISOString()).toBe("2026-12-02T12:00:00.000Z");
    expect(parseSince(" 30 M ", new Date(NOW))?.toISOString()).toBe("2026-12-03T11:30:00.000Z");
  });

  it("reads ISO times", () => {
    expect(parseSince("2026-11-01T00:00:00Z", NOW)?.toISOString()).toBe("2026-11-01T00:00:00.000Z");
  });

  it("is undefined for anything else, including a duration too long to be a date", () => {
    for (const bad of ["", "soon", "7w", "-1d", "1000000000d"]) expect(parseSince(bad, NOW)).toBeUndefined();
  });

  it("requireSince throws for the command line", () => {
    expect(requireSince("1h", NOW).toISOString()).toBe("2026-12-03T11:00:00.000Z");
    expect(() => requireSince("soon", NOW)).toThrow(/invalid since "soon"/);
  });
});
