import { describe, expect, it } from "vitest";
import { precisionGuard } from "./precision-guard.ts";

describe("precisionGuard", () => {
  it.each([
    ["How many calories are in 100 grams of rice?", "How many calories are in 200 grams of rice?", "numbers"],
    ["Is it safe to take two aspirin?", "Is it safe to take three aspirin?", "numbers"],
    ["Which fruits have vitamin C?", "Which fruits don't have vitamin C?", "negation"],
    ["What is the capital of France?", "What is the capital of Germany?", "entities"],
    ['What does "carpe diem" mean?', 'What does "memento mori" mean?', "quoted"],
    ["What happened in the market on Monday", "What happened in the market on Friday", "dates"],
    ["Convert 5 miles to km", "Convert 5 miles to meters", "units"],
    ["Which is bigger, a lion or a tiger?", "Which is smaller, a lion or a tiger?", "comparison"],
    ["Why did God create the universe?", "How did God create the universe?", "question"],
    ["What is the meaning of your life?", "What is the meaning of life?", "person"],
    ["What is a method in object oriented programming?", "What is a method signature in object oriented programming?", "specificity"],
    ["Typical career path of a professor in economics?", "Typical career path of a professor in chemistry?", "swap"],
    ["How do you convert benzene into toluene?", "How do you convert toluene into benzene?", "order"],
  ])("rejects %s / %s (%s)", (a, b, check) => {
    const v = precisionGuard(a, b);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.check).toBe(check);
  });

  it.each([
    ["What is the capital of France?", "what's the capital of france"],
    ["How can I learn Python quickly?", "How do I learn python quickly?"],
    ["Best way to learn machine learning", "best way to learn machine learning?"],
    ["How do I travel cheaply when travelling in Europe?", "How do I travel cheaply when traveling in Europe?"],
  ])("accepts %s / %s", (a, b) => {
    expect(precisionGuard(a, b)).toEqual({ ok: true });
  });

  it.each([
    ["What does this symbol mean?", "What does this symbol mean @?", "literal"],
    ["How do I translate 即将开奖 to English?", "How do I translate 友達以上 to English?", "literal"],
    ["How can I find a job in USA?", "How can I find an IT job in USA?", "entities"],
    ["How do I lose weight in one month?", "How do I lose weight in two months?", "numbers"],
    ["What are the top 10 movies?", "What are the top movies?", "numbers"],
  ])("rejects %s / %s (%s)", (a, b, check) => {
    const v = precisionGuard(a, b);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.check).toBe(check);
  });

  it.each([
    // A number word that is not a quantity, or the same number written two ways.
    ["One can check the hash with the Hasher module.", "The Hasher module can be used to check the hash."],
    ["Is it safe to take two aspirin?", "Is it safe to take 2 aspirin?"],
    // Negation cues on both sides.
    ["Use a default config to avoid a ValueError when loading.", "Use a default config to prevent a ValueError when loading."],
    // A capitalised word after a sentence-final period is not a name.
    ["It is on the main version. Click the link to go there.", "It is on the main version. click the link to go there."],
  ])("content checks accept %s / %s", (a, b) => {
    // structuralMaxWords 0: only the content checks, as for a long text.
    expect(precisionGuard(a, b, { structuralMaxWords: 0 })).toEqual({ ok: true });
  });

  it("long passages: reordering and one-sided comparison words are rewording, two different comparisons are not", () => {
    const opts = { structuralMaxWords: 8 };
    const a = "The examples of cloud storage mentioned in this guide are S3, Google Cloud Storage, and Azure Blob Storage for larger datasets.";
    const b = "This guide mentions S3, Google Cloud Storage, and Azure Blob Storage as examples of cloud storage for big datasets.";
    expect(precisionGuard(a, b, opts)).toEqual({ ok: true });
    expect(precisionGuard(a, b.replace("big", "smaller"), opts)).toMatchObject({ ok: false, check: "comparison" });
  });

  it("a check can be switched off", () => {
    expect(precisionGuard("What is 2+2?", "What is 2+3?", { numbers: false }).ok).toBe(true);
  });
});
