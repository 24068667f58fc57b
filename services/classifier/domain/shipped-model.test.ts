import { readFileSync, statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { LearnedClassifier } from "./learned.ts";
import { DEFAULT_ROUTER_MODEL_URL } from "./model-path.ts";

describe("shipped router artifact", () => {
  it("loads, is small and classifies", () => {
    expect(statSync(DEFAULT_ROUTER_MODEL_URL).size).toBeLessThan(2 * 1024 * 1024);
    const clf = LearnedClassifier.fromJSON(JSON.parse(readFileSync(DEFAULT_ROUTER_MODEL_URL, "utf8")));
    expect(clf.name).toBe("learned@v1");
    const c = clf.classify({ messages: [{ role: "user", content: "hello" }], hasTools: false, jsonMode: false });
    expect(c.strongProbability).toBeGreaterThanOrEqual(0);
    expect(c.strongProbability).toBeLessThanOrEqual(1);
    expect(["LOW", "MEDIUM", "HIGH"]).toContain(c.tier);
  });
});
