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

  it("a check can be switched off", () => {
    expect(precisionGuard("What is 2+2?", "What is 2+3?", { numbers: false }).ok).toBe(true);
  });
});
