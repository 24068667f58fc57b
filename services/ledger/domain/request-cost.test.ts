// costRequest takes pico-USD integers where they are exact; decimal.js is the reference: same result.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { RequestCompletedSchema, type RequestCompleted } from "#libs/gen/llmgw/events/v1/events_pb.ts";
import { loadPriceTable } from "#libs/pricing/price-table.ts";
import { CALL_KINDS, costRequest, costRequestDecimal } from "./request-cost.ts";
import { createRng } from "#libs/random/rng.ts";


const prices = loadPriceTable();
const MODELS = [...prices.models(), "sim-unpriced"];

function randomEvent(r: () => number, i: number): RequestCompleted {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  // Mostly realistic counts; now and then one so large the integer path must hand over.
  const count = (): bigint => BigInt(r() < 0.15 ? 0 : Math.floor(r() * 10 ** (1 + Math.floor(r() * (r() < 0.97 ? 6 : 12)))));
  const usage = () => {
    const outputTokens = count();
    return { inputTokens: count(), cachedInputTokens: r() < 0.5 ? 0n : count(), cacheWrite5mTokens: r() < 0.7 ? 0n : count(), cacheWrite1hTokens: r() < 0.8 ? 0n : count(), outputTokens, reasoningTokens: r() < 0.7 ? 0n : outputTokens / 2n, estimated: r() < 0.1 };
  };
  const calls = Array.from({ length: Math.floor(r() * 4) }, (_, j) => ({
    callId: `r${i}:${j}`,
    kind: r() < 0.6 ? "primary" : pick([...CALL_KINDS, "unknown-kind"]),
    model: pick(MODELS),
    usage: usage(),
    startedAt: r() < 0.9 ? "2025-10-15T12:00:00.000Z" : pick(["2024-06-01T00:00:00Z", "not a date", ""]),
  }));
  return create(RequestCompletedSchema, {
    context: { requestId: `r${i}` },
    completedAt: "2025-10-15T12:00:01.000Z",
    cacheOutcome: pick(["miss", "hit_exact", "hit_semantic", "bypass"]),
    cascaded: r() < 0.3,
    batch: r() < 0.1,
    baselineModel: r() < 0.85 ? pick(MODELS) : "",
    calls,
    ...(r() < 0.9 ? { answerUsage: usage() } : {}),
  });
}

describe("costRequest", () => {
  it("equals the decimal.js computation on random requests (calls, kinds, batch, cache, baselines, unpriced)", () => {
    const r = createRng(3);
    for (let i = 0; i < 5_000; i++) {
      const ev = randomEvent(r, i);
      expect(costRequest(ev, prices), `event ${i}`).toEqual(costRequestDecimal(ev, prices));
    }
  });

  it("a cascade costs both calls and saves against the baseline, to the pico-dollar", () => {
    const ev = create(RequestCompletedSchema, {
      context: { requestId: "c" },
      completedAt: "2025-10-15T12:00:00Z",
      cacheOutcome: "miss",
      cascaded: true,
      baselineModel: "gpt-4o",
      calls: [
        { callId: "c:0", kind: "cascade_first", model: "gpt-4o-mini", usage: { inputTokens: 1000n, outputTokens: 500n }, startedAt: "2025-10-15T12:00:00Z" },
        { callId: "c:1", kind: "escalation", model: "gpt-4.1", usage: { inputTokens: 1000n, outputTokens: 500n }, startedAt: "2025-10-15T12:00:00Z" },
      ],
      answerUsage: { inputTokens: 1000n, outputTokens: 500n },
    });
    const c = costRequest(ev, prices);
    // 0.00045 + (1000×2 + 500×8)/1e6 = 0.00645; baseline 1000×2.5 + 500×10 = 0.0075.
    expect([c.costUsd, c.baselineUsd, c.savingsUsd, c.cascadeSavingsUsd, c.routingSavingsUsd]).toEqual(["0.00645", "0.0075", "0.00105", "0.00105", "0"]);
    expect(c.calls.map((x) => x.costUsd)).toEqual(["0.00045", "0.006"]);
  });
});
