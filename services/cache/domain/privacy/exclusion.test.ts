import { describe, expect, it } from "vitest";
import { ExclusionRules, privacyConfigSchema } from "./exclusion.ts";

describe("ExclusionRules", () => {
  it("applies every built-in detector by default, on every message", () => {
    const rules = new ExclusionRules(privacyConfigSchema.parse({}));
    expect(rules.check("any", ["hello", "write to bob@example.com"])).toBe("email");
    expect(rules.check("any", ["what is the capital of France?"])).toBeUndefined();
  });

  it("a tenant's own detectors replace the default ones and its patterns add to the shared ones", () => {
    const rules = new ExclusionRules(
      privacyConfigSchema.parse({ patterns: ["\\bproject\\s+falcon\\b"], tenants: { acme: { detectors: ["card"], patterns: ["^internal:"] } } }),
    );
    expect(rules.check("acme", ["mail bob@example.com"])).toBeUndefined();
    expect(rules.check("acme", ["pay with 4111 1111 1111 1111"])).toBe("card");
    expect(rules.check("acme", ["INTERNAL: quarterly numbers"])).toBe("pattern:1");
    expect(rules.check("acme", ["status of Project  Falcon?"])).toBe("pattern:0");
    expect(rules.check("other", ["INTERNAL: quarterly numbers"])).toBeUndefined();
    expect(rules.check("other", ["mail bob@example.com"])).toBe("email");
  });

  it("a tenant may switch detection off", () => {
    const rules = new ExclusionRules(privacyConfigSchema.parse({ tenants: { lab: { detectors: [] } } }));
    expect(rules.check("lab", ["mail bob@example.com, key sk-abcdefghijklmnopqrstuvwxyz"])).toBeUndefined();
  });

  it("rejects an invalid regex in the config with the path", () => {
    const r = privacyConfigSchema.safeParse({ tenants: { acme: { patterns: ["(unclosed"] } } });
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error.issues[0]?.path).toEqual(["tenants", "acme", "patterns", 0]);
    expect(privacyConfigSchema.safeParse({ detectors: ["dna"] }).success).toBe(false);
  });
});
