import { describe, expect, it } from "vitest";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { ClassifierService } from "#libs/gen/llmgw/classifier/v1/classifier_pb.ts";
import { Tier } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { buildClassifier } from "./build.ts";
import { ClassifierServiceImpl } from "./service.ts";

const client = createClient(
  ClassifierService,
  createRouterTransport((router) => router.service(ClassifierService, new ClassifierServiceImpl(buildClassifier({ kind: "rules" })))),
);

describe("ClassifierService", () => {
  it("sends tool use to AGENTIC", async () => {
    const r = await client.classify({ messages: [{ role: "user", content: "What's the weather in Paris?" }], hasTools: true });
    expect(r.tier).toBe(Tier.AGENTIC);
    expect(r.classifier).toBe("rules@1");
    expect(r.features.hasTools).toBe("true");
  });

  it("keeps a greeting cheap", async () => {
    const r = await client.classify({ messages: [{ role: "user", content: "hi there!" }] });
    expect(r.tier).toBe(Tier.LOW);
    expect(r.reasons.length).toBeGreaterThanOrEqual(0);
  });

  it("classifies a batch in order, each as Classify would", async () => {
    const requests = [
      { messages: [{ role: "user", content: "What's the weather in Paris?" }], hasTools: true },
      { messages: [{ role: "user", content: "hi there!" }] },
      { messages: [{ role: "user", content: "Prove that there are infinitely many primes, step by step." }] },
    ];
    const batch = await client.classifyBatch({ requests });
    expect(batch.results).toHaveLength(3);
    for (const [i, r] of requests.entries()) {
      const one = await client.classify(r);
      expect(batch.results[i]?.tier).toBe(one.tier);
      expect(batch.results[i]?.category).toBe(one.category);
      expect(batch.results[i]?.confidence).toBe(one.confidence);
    }
    expect(batch.results[0]?.tier).toBe(Tier.AGENTIC);
    expect((await client.classifyBatch({ requests: [] })).results).toEqual([]);
  });

  it("fails fast on a missing learned artifact", () => {
    expect(() => buildClassifier({ kind: "learned", artifact: "/nope.json" })).toThrow(/classifier.artifact/);
  });

  it("rejects unknown config keys", () => {
    expect(() => buildClassifier({ kind: "rules", typo: 1 })).toThrow();
  });
});
