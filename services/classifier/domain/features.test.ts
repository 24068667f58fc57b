import { describe, expect, it } from "vitest";
import { boundedPromptText, boundedText, extractFeatures, featuresAndText, guessLanguage, lastUserText, promptText } from "./features.ts";
import type { ClassifyInput } from "./types.ts";

const user = (content: string, extra: Partial<ClassifyInput> = {}): ClassifyInput => ({
  messages: [{ role: "user", content }],
  hasTools: false,
  jsonMode: false,
  ...extra,
});

describe("extractFeatures", () => {
  it("counts basic sizes", () => {
    const f = extractFeatures(user("What is 2 + 2? And why?"));
    expect(f.chars).toBe(23);
    expect(f.approxTokens).toBe(6);
    expect(f.turns).toBe(1);
    expect(f.questionCount).toBe(2);
    expect(f.hasMath).toBe(true);
    expect(f.reasoningMarkers).toBe(1);
    expect(f.numberCount).toBe(2);
  });

  it.each([
    ["```js\nconsole.log(1)\n```", true],
    ["def foo(x):\n    return x", true],
    ["Write a poem about the sea", false],
  ])("hasCode(%j) = %s", (text, expected) => {
    expect(extractFeatures(user(text)).hasCode).toBe(expected);
  });

  it("detects multiple choice, constraints and follow-ups", () => {
    const mc = extractFeatures(user("Which is a prime?\nA. 4\nB. 6\nC. 7\nD. 9\nAnswer:"));
    expect(mc.multipleChoice).toBe(true);
    const input: ClassifyInput = {
      messages: [
        { role: "system", content: "Be terse." },
        { role: "user", content: "Write a haiku." },
        { role: "assistant", content: "Leaves fall..." },
        { role: "user", content: "Rewrite your previous answer in exactly 10 words." },
      ],
      hasTools: true,
      jsonMode: true,
      maxTokens: 50,
    };
    const f = extractFeatures(input);
    expect(f.turns).toBe(2);
    expect(f.followUp).toBe(true);
    expect(f.hasSystem).toBe(true);
    expect(f.constraintMarkers).toBeGreaterThanOrEqual(1);
    expect(f.hasTools).toBe(true);
    expect(f.jsonMode).toBe(true);
    expect(f.maxTokens).toBe(50);
    // Assistant text is not part of the prompt features.
    expect(promptText(input)).not.toContain("Leaves fall");
  });

  it("stays linear on pathological input", () => {
    // Each of these once took quadratic time in some regex; all must finish at once.
    for (const evil of ["a".repeat(200_000) + "(" + "1+".repeat(50_000), "\n".repeat(100_000), " ".repeat(100_000) + "x", "\nA. ".repeat(30_000)]) {
      const f = extractFeatures(user(evil));
      expect(f.chars).toBe(evil.length);
    }
  });
});

describe("guessLanguage", () => {
  it.each([
    ["What is the capital of France and why?", "en"],
    ["¿Cuál es la capital de España y por qué es importante para el país?", "es"],
    ["Quelle est la capitale de la France et pourquoi est-elle importante pour les gens?", "fr"],
    ["Was ist die Hauptstadt von Deutschland und warum ist sie nicht im Norden?", "de"],
    ["你好，请问今天天气怎么样？", "zh"],
    ["こんにちは、お元気ですか？", "ja"],
    ["Привет, как дела?", "ru"],
    ["12345", "und"],
    // Few script characters among Latin ones: the script scan runs but does not decide.
    ["Translate 'привет' into English please, what does it mean?", "en"],
    ["Ελληνικά and the rest in English words that are of this sentence", "en"],
  ])("%s → %s", (text, lang) => {
    expect(guessLanguage(text)).toBe(lang);
  });
});

describe("featuresAndText", () => {
  it("is extractFeatures with the bounded prompt and last user turn", () => {
    const input: ClassifyInput = { messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "x".repeat(20_000) }, { role: "assistant", content: "ok" }, { role: "user", content: "Now explain why." }], hasTools: false, jsonMode: false };
    const r = featuresAndText(input);
    expect(r.features).toEqual(extractFeatures(input));
    expect(r.text).toBe(boundedText(promptText(input)));
    expect(r.last).toBe(boundedText(lastUserText(input)));
  });
});

describe("boundedPromptText", () => {
  it("is boundedText(promptText(input)) and its length, for short, long, empty and many-part prompts", () => {
    const roles = ["user", "system", "assistant", "tool", "developer"] as const;
    let seed = 7;
    const rand = (n: number): number => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) % n;
    const sizes = [0, 0, 1, 5, 3_000, 11_999, 12_000, 16_001, 40_000];
    for (let trial = 0; trial < 300; trial++) {
      const messages = Array.from({ length: 1 + rand(8) }, (_, i) => ({ role: roles[rand(roles.length)]!, content: String.fromCharCode(97 + (i % 26)).repeat(sizes[rand(sizes.length)]!) + (rand(2) ? "\n" : "") }));
      const input: ClassifyInput = { messages, hasTools: false, jsonMode: false };
      const full = promptText(input);
      expect(boundedPromptText(input)).toEqual({ text: boundedText(full), chars: full.length });
    }
  });
});
