import { describe, expect, it } from "vitest";
import { DETECTORS, detect, type Detector } from "./detectors.ts";

const cases: Record<Detector, { hit: string[]; miss: string[] }> = {
  email: {
    hit: ["mail jane.doe+x@example.co.uk about it", "Contact: ops@acme.io."],
    miss: ["what does @decorator do in python", "user@localhost is not an address here", "a @ b . c"],
  },
  phone: {
    hit: ["call me at +44 20 7946 0958 tomorrow", "my number is (415) 555-2671", "ring 020 7946 0958 please", "appelle le 01 42 68 53 00"],
    miss: ["what is 2+2", "the year 2024 and 1999", "order 12345"],
  },
  card: {
    // Test numbers from the card networks: pass Luhn and issuer ranges.
    hit: ["charge 4111 1111 1111 1111 now", "card 5500-0000-0000-0004", "amex 378282246310005"],
    // Same shape, failing Luhn; and a long order number.
    miss: ["charge 4111 1111 1111 1112 now", "tracking 1234567890123456"],
  },
  national_id: {
    hit: ["my SSN is 123-45-6789", "NI number AB 12 34 56 C", "aadhaar 2345 6789 0123", "INSEE 1840576451089 31"],
    miss: ["SSN 000-12-3456 is invalid", "serial 666-12-3456", "the ratio 12-34-56", "aadhaar 1234 5678 9012", "INSEE 1840576451089 32"],
  },
  api_key: {
    hit: ["use sk-proj-abcdefghijklmnopqrstuvwx12345", "key AKIAIOSFODNN7EXAMPLE", "token ghp_0123456789abcdefghijklmnopqrstuvwxyzAB", "-----BEGIN RSA PRIVATE KEY-----", "xoxb-1234567890-abcdefghij"],
    miss: ["what is an API key", "sk- is a prefix", "ghp_ tokens"],
  },
};

describe.each(DETECTORS)("privacy detector %s", (d) => {
  it.each(cases[d].hit)("finds %s", (text) => {
    expect(detect(text, [d])).toBe(d);
  });
  it.each(cases[d].miss)("lets %s through", (text) => {
    expect(detect(text, [d])).toBeUndefined();
  });
});

describe("detect", () => {
  it("runs only the enabled detectors", () => {
    expect(detect("mail jane@example.com", ["phone", "card"])).toBeUndefined();
    expect(detect("mail jane@example.com", [])).toBeUndefined();
  });
});
