// EvaluatorService through Connect (in-process router transport): the real scorer and DowngradeStats.
import { describe, expect, it } from "vitest";
import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { Tier } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { EvaluatorService } from "#libs/gen/llmgw/evaluator/v1/evaluator_pb.ts";
import { DowngradeStats } from "./domain/downgrade.ts";
import { EvaluatorServiceImpl, type QualitySource } from "./service.ts";

const encoder = new TextEncoder();
const bytes = (v: unknown): Uint8Array => encoder.encode(JSON.stringify(v));

function evaluatorClient(stats = new DowngradeStats()): Client<typeof EvaluatorService> {
  return createClient(EvaluatorService, createRouterTransport((router) => router.service(EvaluatorService, new EvaluatorServiceImpl(stats))));
}

interface ToolCall {
  name: string;
  arguments: string;
}

function answer(content: string | null, finishReason = "stop", toolCalls: ToolCall[] = []): Uint8Array {
  return bytes({
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 0,
    model: "gpt-4o-mini",
    choices: [
      {
        index: 0,
        finish_reason: finishReason,
        message: {
          role: "assistant",
          content,
          ...(toolCalls.length ? { tool_calls: toolCalls.map((t, i) => ({ id: `call_${i}`, type: "function", function: t })) } : {}),
        },
      },
    ],
  });
}

const request = (extra: Record<string, unknown> = {}): Uint8Array => bytes({ model: "auto", messages: [{ role: "user", content: "What is the capital of France?" }], ...extra });

async function rpcCode(p: Promise<unknown>): Promise<Code | "resolved"> {
  try {
    await p;
    return "resolved";
  } catch (e) {
    return ConnectError.from(e).code;
  }
}

describe("EvaluatorService.Evaluate", () => {
  const client = evaluatorClient();

  it("passes a complete answer with score 1", async () => {
    const r = await client.evaluate({ requestJson: request(), answerJson: answer("The capital of France is Paris.") });
    expect(r).toMatchObject({ ok: true, score: 1, failures: [] });
  });

  it("request_json is optional", async () => {
    const r = await client.evaluate({ answerJson: answer("The capital of France is Paris.") });
    expect(r.ok).toBe(true);
  });

  it("fails a truncated answer and lowers its score", async () => {
    const r = await client.evaluate({ requestJson: request(), answerJson: answer("The capital of France is", "length") });
    expect(r.ok).toBe(false);
    expect(r.failures).toContain("truncated");
    expect(r.score).toBeCloseTo(0.4, 6);
  });

  it("fails an empty answer with score 0", async () => {
    const r = await client.evaluate({ requestJson: request(), answerJson: answer("") });
    expect(r).toMatchObject({ ok: false, score: 0 });
    expect(r.failures).toContain("empty");
  });

  it("checks JSON mode and tool calls against the request", async () => {
    const jsonReq = request({ response_format: { type: "json_object" } });
    const notJson = await client.evaluate({ requestJson: jsonReq, answerJson: answer("Paris") });
    expect(notJson.failures).toContain("invalid_json");
    const isJson = await client.evaluate({ requestJson: jsonReq, answerJson: answer('{"capital":"Paris"}') });
    expect(isJson.ok).toBe(true);

    const toolsReq = request({ tools: [{ type: "function", function: { name: "lookup", parameters: {} } }] });
    const badArgs = await client.evaluate({ requestJson: toolsReq, answerJson: answer(null, "tool_calls", [{ name: "lookup", arguments: "{oops" }]) });
    expect(badArgs.ok).toBe(false);
    expect(badArgs.failures).toContain("tool_call_bad_arguments");
    const goodCall = await client.evaluate({ requestJson: toolsReq, answerJson: answer(null, "tool_calls", [{ name: "lookup", arguments: '{"q":"France"}' }]) });
    expect(goodCall).toMatchObject({ ok: true, failures: [] });
  });

  it("compares against the served answer when a reference is given", async () => {
    const same = await client.evaluate({ requestJson: request(), answerJson: answer("So the answer is 42."), referenceJson: answer("The total is 42") });
    expect(same).toMatchObject({ ok: true, score: 1 });

    const differs = await client.evaluate({ requestJson: request(), answerJson: answer("So the answer is 41."), referenceJson: answer("The total is 42") });
    expect(differs).toMatchObject({ ok: false, score: 0, failures: ["different_final_number"] });

    const paraphrase = await client.evaluate({ answerJson: answer("Paris is the capital of France."), referenceJson: answer("The capital of France is Paris.") });
    expect(paraphrase.ok).toBe(true);

    const unrelated = await client.evaluate({ answerJson: answer("Bananas are yellow fruit."), referenceJson: answer("The capital of France is Paris.") });
    expect(unrelated.ok).toBe(false);
    expect(unrelated.failures).toEqual(["low_overlap_with_served_answer"]);
    expect(unrelated.score).toBeLessThan(1);

    const toolsDiffer = await client.evaluate({
      answerJson: answer(null, "tool_calls", [{ name: "search", arguments: "{}" }]),
      referenceJson: answer(null, "tool_calls", [{ name: "lookup", arguments: "{}" }]),
    });
    expect(toolsDiffer).toMatchObject({ ok: false, failures: ["different_tool_calls"] });
  });

  it("rejects a missing or malformed answer_json as InvalidArgument", async () => {
    expect(await rpcCode(client.evaluate({ requestJson: request() }))).toBe(Code.InvalidArgument);
    expect(await rpcCode(client.evaluate({ requestJson: request(), answerJson: encoder.encode("{not json") }))).toBe(Code.InvalidArgument);
    expect(await rpcCode(client.evaluate({ requestJson: request(), answerJson: encoder.encode("null") }))).toBe(Code.InvalidArgument);
    expect(await rpcCode(client.evaluate({ requestJson: request(), answerJson: encoder.encode("[1,2]") }))).toBe(Code.InvalidArgument);
  });

  it("rejects a malformed request_json or reference_json as InvalidArgument", async () => {
    const good = answer("The capital of France is Paris.");
    expect(await rpcCode(client.evaluate({ requestJson: encoder.encode("{not json"), answerJson: good }))).toBe(Code.InvalidArgument);
    expect(await rpcCode(client.evaluate({ requestJson: encoder.encode("null"), answerJson: good }))).toBe(Code.InvalidArgument);
    expect(await rpcCode(client.evaluate({ answerJson: good, referenceJson: encoder.encode("{not json") }))).toBe(Code.InvalidArgument);
    expect(await rpcCode(client.evaluate({ answerJson: good, referenceJson: encoder.encode("42") }))).toBe(Code.InvalidArgument);
  });
});

describe("EvaluatorService.GetDowngradeReport", () => {
  it("is empty before any shadow test", async () => {
    expect((await evaluatorClient().getDowngradeReport({ tenantId: "acme" })).findings).toEqual([]);
  });

  it("reports per tenant, maps every field, and marks a downgrade safe only with enough passing samples", async () => {
    const stats = new DowngradeStats();
    const client = evaluatorClient(stats);
    const safeKey = { tenant: "acme", category: "qa", tier: "HIGH", from: "gpt-4o", to: "gpt-4o-mini" };
    const fewKey = { tenant: "acme", category: "code", tier: "MEDIUM", from: "gpt-4o-mini", to: "small-8k" };
    const otherTenant = { tenant: "globex", category: "qa", tier: "LOW", from: "gpt-4o-mini", to: "small-8k" };
    for (let i = 0; i < 100; i++) stats.record(safeKey, true);
    for (let i = 0; i < 10; i++) stats.record(fewKey, i < 5);
    for (let i = 0; i < 3; i++) stats.record(otherTenant, true);

    const acme = (await client.getDowngradeReport({ tenantId: "acme" })).findings;
    expect(acme).toHaveLength(2);
    expect(acme[0]).toMatchObject({ category: "qa", tier: Tier.HIGH, fromModel: "gpt-4o", toModel: "gpt-4o-mini", samples: 100n, passRate: 1, safe: true });
    expect(acme[1]).toMatchObject({ category: "code", tier: Tier.MEDIUM, fromModel: "gpt-4o-mini", toModel: "small-8k", samples: 10n, passRate: 0.5, safe: false });

    const globex = (await client.getDowngradeReport({ tenantId: "globex" })).findings;
    expect(globex).toHaveLength(1);
    expect(globex[0]).toMatchObject({ tier: Tier.LOW, samples: 3n, safe: false });

    // Empty tenant_id: every tenant, most samples first.
    const all = (await client.getDowngradeReport({})).findings;
    expect(all.map((f) => Number(f.samples))).toEqual([100, 10, 3]);
    expect((await client.getDowngradeReport({ tenantId: "nobody" })).findings).toEqual([]);
  });
});

describe("EvaluatorService.GetCacheQuality", () => {
  const asked: { from: Date; tenant: string | undefined }[] = [];
  const source: QualitySource = {
    policyQuality: async () => [],
    cacheQuality: async (from, tenant) => {
      asked.push({ from, tenant });
      return [{ category: "math", audits: 40, wrong: 2, wrongHitRate: 0.05, low: 0.014, high: 0.165, baselineAudits: 38, baselineWrong: 1, baselineHigh: 0.135, baselineLow: 0.005, cuts: [{ similarity: 0.9, audits: 40, wrong: 2, high: 0.165 }, { similarity: 0.95, audits: 12, wrong: 0, high: 0.243 }], refutedEntries: 1 }];
    },
    refutedEntries: async (_from, tenant) => (tenant === "acme" ? [{ tenantId: "acme", entryId: "k1", category: "math", similarity: 0.93 }] : []),
  };
  const client = createClient(EvaluatorService, createRouterTransport((router) => router.service(EvaluatorService, new EvaluatorServiceImpl(new DowngradeStats(), source))));

  it("maps the audited wrong-hit rate per category, for one tenant or all", async () => {
    const { rows } = await client.getCacheQuality({ since: "2026-11-01T00:00:00Z", tenantId: "acme" });
    expect(rows).toEqual([expect.objectContaining({ category: "math", audits: 40n, wrong: 2n, wrongHitRate: 0.05, low: 0.014, high: 0.165, baselineAudits: 38n, baselineWrong: 1n, baselineHigh: 0.135, baselineLow: 0.005, refutedEntries: 1n })]);
    expect(rows[0]?.cuts.map((c) => [c.similarity, c.audits, c.wrong, c.high])).toEqual([[0.9, 40n, 2n, 0.165], [0.95, 12n, 0n, 0.243]]);
    expect(asked.at(-1)).toEqual({ from: new Date("2026-11-01T00:00:00Z"), tenant: "acme" });
    await client.getCacheQuality({ since: "2026-11-01T00:00:00Z" });
    expect(asked.at(-1)?.tenant).toBe("");
  });

  it("lists the refuted entries when asked, and only then", async () => {
    const { refutedEntries } = await client.getCacheQuality({ since: "2026-11-01T00:00:00Z", tenantId: "acme", withEntries: true });
    expect(refutedEntries).toEqual([expect.objectContaining({ tenantId: "acme", entryId: "k1", category: "math", similarity: 0.93 })]);
    expect((await client.getCacheQuality({ since: "2026-11-01T00:00:00Z", tenantId: "acme" })).refutedEntries).toEqual([]);
  });

  it("without a store reports nothing", async () => {
    expect((await evaluatorClient().getCacheQuality({ since: "2026-11-01T00:00:00Z" })).rows).toEqual([]);
  });

  it("an empty or unreadable since is InvalidArgument", async () => {
    for (const since of ["", "yesterday"]) {
      const e = await client.getCacheQuality({ since }).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(ConnectError);
      expect((e as ConnectError).code).toBe(Code.InvalidArgument);
    }
  });
});
