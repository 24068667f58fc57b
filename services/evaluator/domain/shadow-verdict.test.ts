import { describe, expect, it } from "vitest";
import { judgeShadow } from "./shadow-verdict.ts";

const view = (content: string, finishReason = "stop") => ({ content, finishReason, toolCalls: [] });
const math = { model: "auto", messages: [{ role: "user" as const, content: "Tom has 3 apples and buys 4 more. How many apples does he have?" }] };

describe("judgeShadow", () => {
  it("accepts a cheap answer with the same final number, keeping every scorer's verdict", async () => {
    const v = await judgeShadow({ request: math, served: view("He has 3 + 4 = 7 apples. #### 7"), candidate: view("7 apples in total. #### 7"), category: "math", servedModel: "gpt-4o", candidateModel: "gpt-4o-mini" });
    expect(v.ok).toBe(true);
    expect(v.failures).toEqual([]);
    expect(v.report.results.map((r) => r.scorer)).toEqual(expect.arrayContaining(["checks", "agreement", "similarity"]));
  });

  it("rejects a different final number and a truncated answer, naming the scorer", async () => {
    const wrong = await judgeShadow({ request: math, served: view("#### 7"), candidate: view("The answer is 8. #### 8"), category: "math", servedModel: "gpt-4o", candidateModel: "gpt-4o-mini" });
    expect(wrong.ok).toBe(false);
    expect(wrong.failures.some((f) => f.startsWith("agreement"))).toBe(true);
    const cut = await judgeShadow({ request: math, served: view("#### 7"), candidate: view("Tom starts with 3 and", "length"), category: "math", servedModel: "gpt-4o", candidateModel: "gpt-4o-mini" });
    expect(cut.ok).toBe(false);
    expect(cut.failures.some((f) => f.startsWith("checks"))).toBe(true);
  });
});
