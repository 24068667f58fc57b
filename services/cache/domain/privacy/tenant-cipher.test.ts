import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseMasterKey, TenantCipher } from "./tenant-cipher.ts";

describe("TenantCipher", () => {
  const cipher = new TenantCipher(randomBytes(32));

  it("round-trips, and the sealed text neither contains nor repeats the plaintext", () => {
    const a = cipher.seal("acme", "The capital of France is Paris.");
    const b = cipher.seal("acme", "The capital of France is Paris.");
    expect(a).not.toContain("Paris");
    expect(a).not.toBe(b);
    expect(cipher.open("acme", a)).toBe("The capital of France is Paris.");
  });

  it("another tenant's key, another master key or a flipped byte does not open it", () => {
    const sealed = cipher.seal("acme", "secret answer");
    expect(cipher.open("globex", sealed)).toBeUndefined();
    expect(new TenantCipher(randomBytes(32)).open("acme", sealed)).toBeUndefined();
    const raw = Buffer.from(sealed.slice(3), "base64url");
    raw[raw.length - 1] = (raw[raw.length - 1] as number) ^ 1;
    expect(cipher.open("acme", `v1.${raw.toString("base64url")}`)).toBeUndefined();
    expect(cipher.open("acme", "plain text")).toBeUndefined();
  });

  it("parses hex and base64 master keys and refuses short ones", () => {
    const key = randomBytes(32);
    expect(parseMasterKey(key.toString("hex")).equals(key)).toBe(true);
    expect(parseMasterKey(key.toString("base64")).equals(key)).toBe(true);
    expect(() => parseMasterKey("c2hvcnQ=")).toThrow(/32 bytes/);
  });
});
