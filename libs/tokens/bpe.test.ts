import { Tiktoken } from "js-tiktoken/lite";
import o200k from "js-tiktoken/ranks/o200k_base";
import { describe, expect, it } from "vitest";
import { CompactBpe } from "./bpe.ts";
import { readO200kRanks } from "./count.ts";

// The reference: js-tiktoken's own encoder over the same ranks.
const reference = new Tiktoken(o200k);
const compact = new CompactBpe(readO200kRanks());

/** Deterministic mixed-script text: words, digits, punctuation, whitespace runs, emoji, CJK, lone surrogates. */
function randomTexts(n: number, seed = 7): string[] {
  let s = seed;
  const rnd = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const alphabets = [
    "abcdefghijklmnopqrstuvwxyz",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "0123456789",
    " \t\n\r  ",
    "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    "éèàçüöñßøåæœ",
    "дпривет мир",
    "中文字符测试漢字かなカナ한국어",
    "مرحبا بالعالم",
    "😀🚀👍🏽👨‍👩‍👧",
    "\ud800\udc00\ud83d",
  ];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = 1 + Math.floor(rnd() * 120);
    let t = "";
    while (t.length < len) {
      const a = alphabets[Math.floor(rnd() * alphabets.length)] as string;
      const chars = [...a];
      const run = 1 + Math.floor(rnd() * 8);
      for (let k = 0; k < run; k++) t += chars[Math.floor(rnd() * chars.length)];
    }
    out.push(t);
  }
  return out;
}

const fixed = [
  "",
  "hello world",
  "What is the capital of France? Answer in one sentence.",
  "The quick brown fox jumps over the lazy dog. ".repeat(40),
  "function add(a: number, b: number): number {\n  return a + b;\n}\n",
  "  leading and trailing spaces   ",
  "don't won't it's they're I'M WE'LL",
  "1234567890 3.14159 1e-7 0x1F 100,000",
  "x".repeat(300),
  "🤖".repeat(50),
  "a\u0301 e\u0301 combining marks",
  "lone \ud800 surrogate",
  "Ünïcödé façade naïve coöperate",
  "東京は日本の首都です。",
];

describe("CompactBpe", () => {
  it("reads the same ranks as the js-tiktoken module exports", () => {
    expect(readO200kRanks()).toEqual(o200k);
  });

  it("holds every o200k token", () => {
    expect(compact.size).toBe(199_998);
  });

  it("encodes exactly like js-tiktoken", () => {
    for (const t of [...fixed, ...randomTexts(3_000)]) expect(compact.encode(t), JSON.stringify(t)).toEqual(reference.encode(t));
  });

  it("decodes exactly like js-tiktoken, token by token and whole", () => {
    for (let id = 0; id < 200_020; id += 7) expect(compact.decode([id])).toBe(reference.decode([id]));
    for (const t of [...fixed, ...randomTexts(300, 11)]) {
      const ids = reference.encode(t);
      expect(compact.decode(ids)).toBe(reference.decode(ids));
    }
  });

  it("merges long runs (the heap path) exactly like js-tiktoken", () => {
    const runs = ["z".repeat(900), " ".repeat(700), "ab".repeat(400), "é".repeat(500), "xYz".repeat(300), "🤖".repeat(200), "1".repeat(600), "!?".repeat(400), "Z".repeat(600), "a" + "\u0301".repeat(300)];
    for (const t of [...runs, ...randomTexts(30, 5).map((t) => t.repeat(8))]) expect(compact.encode(t), JSON.stringify(t.slice(0, 20))).toEqual(reference.encode(t));
  });

  it("encodes a 200 KB run of one character (quadratic before: minutes) and decodes it back", () => {
    for (const c of ["z", " ", "!", "中"]) {
      const text = c.repeat(200_000);
      expect(compact.decode(compact.encode(text))).toBe(text);
    }
  }, 60_000);

  it("encodes special tokens' text as ordinary text when asked (counting never throws)", () => {
    expect(compact.decode(compact.encodeOrdinary("a <|endoftext|> b"))).toBe("a <|endoftext|> b");
  });

  it("rejects special tokens in text, as js-tiktoken does by default", () => {
    expect(() => compact.encode("a <|endoftext|> b")).toThrow("special token");
    expect(() => reference.encode("a <|endoftext|> b")).toThrow("special token");
    expect(compact.decode([199_999])).toBe("<|endoftext|>");
  });
});
