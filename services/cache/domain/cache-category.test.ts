import { describe, expect, it } from "vitest";
import { cacheCategory } from "./cache-category.ts";

describe("cacheCategory", () => {
  it.each([
    ["qa", "What is the capital of France?", "static_knowledge"],
    ["qa", "What's the weather in Paris today?", "realtime"],
    ["qa", "Latest news about the election", "realtime"],
    ["summarization", "Summarize this article: ...", "summarization"],
    ["classification", "Is this review positive?", "classification"],
    ["creative", "Write a poem about today", "creative"],
    ["unknown-category", "hello", "default"],
  ])("%s / %s → %s", (task, text, want) => {
    expect(cacheCategory(task, text)).toBe(want);
  });
});
