// Hostile prompts against the privacy detectors (issue #11): each scan stays linear. Before, an e-mail
// pattern scanned a run without '@' to its end from every position and libphonenumber parsed whole texts
// (100,000 x "z": 25 s; "+1 " x 30,000: 10 s, on the event loop). Generous timeouts: these took seconds.
import { describe, expect, it } from "vitest";
import { DETECTORS, detect } from "./detectors.ts";
import { ExclusionRules, privacyConfigSchema, SCAN_CHARS } from "./exclusion.ts";

const HOSTILE = ["z".repeat(30_000), "+1 ".repeat(10_000), "1".repeat(30_000), "1-".repeat(15_000), "a@".repeat(15_000), "a.".repeat(15_000), "eyJ".repeat(10_000)];

describe("privacy detectors on hostile text", () => {
  it("scan 30 KB runs without finding what is not there", () => {
    for (const text of HOSTILE) for (const d of DETECTORS) if (d !== "phone" || !text.startsWith("1-")) expect(detect(text, [d]), `${d} ${text.slice(0, 6)}`).toBeUndefined();
  }, 30_000);

  it("still find a phone number and an e-mail address inside long text", () => {
    expect(detect(`${"z ".repeat(5_000)} call +44 20 7946 0958 now`, ["phone"])).toBe("phone");
    expect(detect(`${"z ".repeat(5_000)} write to bob@example.com`, ["email"])).toBe("email");
  });

  it("keep prompts longer than SCAN_CHARS out of the cache unscanned", () => {
    const rules = new ExclusionRules(privacyConfigSchema.parse({ detectors: ["email"] }));
    expect(rules.check("t", ["x".repeat(SCAN_CHARS + 1)])).toBe("too_long_to_scan");
    expect(rules.check("t", ["x".repeat(100)])).toBeUndefined();
  });
});
