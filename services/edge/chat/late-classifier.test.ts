import { Code, ConnectError, createClient, createRouterTransport, type ServiceImpl } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { ClassifierService, ClassifyRequestSchema, type ClassifyRequest } from "#libs/gen/llmgw/classifier/v1/classifier_pb.ts";
import { Tier } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { LateClassifier } from "./late-classifier.ts";

/** A classifier that names each request's category after its first message, and counts its calls. */
function fake(impl: Partial<Pick<ServiceImpl<typeof ClassifierService>, "classifyBatch">> = {}) {
  const calls = { classify: 0, batches: [] as number[] };
  const answer = (r: ClassifyRequest) => ({ tier: Tier.LOW, category: r.messages[0]?.content ?? "", confidence: 0.5 });
  const service: Partial<ServiceImpl<typeof ClassifierService>> = {
    classify(r) {
      calls.classify++;
      return answer(r);
    },
    classifyBatch:
      impl.classifyBatch ??
      ((req) => {
        calls.batches.push(req.requests.length);
        return { results: req.requests.map(answer) };
      }),
  };
  const client = createClient(ClassifierService, createRouterTransport((r) => r.service(ClassifierService, service)));
  return { client, calls };
}

const req = (text: string): ClassifyRequest => create(ClassifyRequestSchema, { messages: [{ role: "user", content: text }] });

describe("LateClassifier", () => {
  it("sends what arrives within the window as one batch and gives each caller its own class", async () => {
    const { client, calls } = fake();
    const late = new LateClassifier(client, { waitMs: 20 });
    const out = await Promise.all(["a", "b", "c"].map((t) => late.classify(req(t))));
    expect(out.map((r) => r.category)).toEqual(["a", "b", "c"]);
    expect(calls.batches).toEqual([3]);
    expect(calls.classify).toBe(0);
  });

  it("flushes a full batch at once, without waiting for the window", async () => {
    const { client, calls } = fake();
    const late = new LateClassifier(client, { waitMs: 60_000, maxBatch: 2 });
    const out = await Promise.all(["a", "b"].map((t) => late.classify(req(t))));
    expect(out.map((r) => r.category)).toEqual(["a", "b"]);
    expect(calls.batches).toEqual([2]);
  });

  it("fails every caller of a failed batch, and the next batch still goes", async () => {
    let fail = true;
    const { client } = fake({
      classifyBatch(r) {
        if (fail) throw new ConnectError("down", Code.Unavailable);
        return { results: r.requests.map(() => ({ category: "ok" })) };
      },
    });
    const late = new LateClassifier(client, { waitMs: 1 });
    const failed = await Promise.allSettled([late.classify(req("a")), late.classify(req("b"))]);
    expect(failed.map((f) => f.status)).toEqual(["rejected", "rejected"]);
    fail = false;
    expect((await late.classify(req("c"))).category).toBe("ok");
  });

  it("does not hold a batch behind a slow one", async () => {
    let release: () => void = () => {};
    const slow = new Promise<void>((r) => (release = r));
    let n = 0;
    const { client } = fake({
      async classifyBatch(r) {
        if (n++ === 0) await slow;
        return { results: r.requests.map((q) => ({ category: q.messages[0]?.content ?? "" })) };
      },
    });
    const late = new LateClassifier(client, { waitMs: 1 });
    const first = late.classify(req("a"));
    await new Promise((r) => setTimeout(r, 20));
    expect((await late.classify(req("b"))).category).toBe("b");
    release();
    expect((await first).category).toBe("a");
  });

  it("rejects a batch answered with the wrong number of results", async () => {
    const { client } = fake({ classifyBatch: () => ({ results: [] }) });
    const late = new LateClassifier(client, { waitMs: 1 });
    await expect(late.classify(req("a"))).rejects.toThrow(/0 results for 1/);
  });

  it("falls back to one Classify per request when the classifier does not know ClassifyBatch", async () => {
    const { client, calls } = fake({
      classifyBatch() {
        throw new ConnectError("older classifier", Code.Unimplemented);
      },
    });
    const late = new LateClassifier(client, { waitMs: 1 });
    const out = await Promise.all(["a", "b"].map((t) => late.classify(req(t))));
    expect(out.map((r) => r.category)).toEqual(["a", "b"]);
    expect((await late.classify(req("c"))).category).toBe("c");
    expect(calls.classify).toBe(3);
  });
});
