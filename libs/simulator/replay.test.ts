import Anthropic from "@anthropic-ai/sdk";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { choiceLetters, loadReplay, parseReplayJsonl, type Replay, type ReplaySide } from "./replay.ts";
import { startSimulator, type Simulator } from "./server.ts";
import { getEncoder } from "./tokens.ts";

// Inline fixtures in the benchmark files' formats (tests never read the benchmark data).
const GSM = [
  {
    id: "g1",
    dataset: "gsm8k",
    category: "math",
    prompt: "Tom has 3 apples and buys 4 more. How many apples does he have?",
    weak_correct: false,
    strong_correct: true,
    weak_response: " Tom has 3 + 4 = 12 apples.\n#### 12",
    strong_response: "Tom has 3 + 4 = 7 apples.\n#### 7",
  },
  {
    id: "g2",
    dataset: "gsm8k",
    category: "math",
    prompt: "A box holds 6 eggs. How many eggs are in 5 boxes?",
    weak_correct: true,
    strong_correct: true,
    weak_response: " 6 * 5 = 30\n#### 30",
    strong_response: "5 boxes x 6 eggs = 30 eggs.\n#### 30",
  },
];
const FLAGS: [boolean, boolean][] = [
  [true, true],
  [true, false],
  [false, true],
  [false, false],
];
// 200 questions, 50 per flag combination; the first one appears twice (as in mmlu-dev.jsonl).
const MMLU = Array.from({ length: 200 }, (_, i) => {
  const [w, s] = FLAGS[i % 4] ?? [true, true];
  return { id: `m${i}`, dataset: "mmlu", category: "trivia", prompt: `Question ${i}?\nA. one\nB. two\nC. three\nD. four\nAnswer:`, weak_correct: w, strong_correct: s };
});
const MMLU_LINES = [...MMLU, { ...MMLU[0], category: "cross_listed", weak_correct: false }];
const MT = [
  { id: "mt1-1", dataset: "mt_bench", category: "writing", turn: 1, turns: ["Write a poem about the sea."], weak_score: 6.0, strong_score: 9, unify_routed_to: "weak" },
  { id: "mt1-2", category: "writing", turn: 2, turns: ["Write a poem about the sea.", "Now make it rhyme."], weak_score: 4.0, strong_score: 8, unify_routed_to: "strong" },
  { id: "mt2-2", dataset: "mt_bench", category: "writing", turn: 2, turns: ["Write a story about a cat.", "Now make it rhyme."], weak_score: 7.0, strong_score: 7, unify_routed_to: "weak" },
];

const jsonl = (rows: readonly object[]): string => `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`;
const tokens = (s: string): number => getEncoder().encode(s).length;
const user = (content: string): { role: "user"; content: string } => ({ role: "user", content });

const WEAK = ["gpt-4o-mini", "claude-3-5-haiku-latest"];
const STRONG = ["gpt-4o", "claude-sonnet-4-5"];

let dir: string;
let files: string[];
let replay: Replay;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sim-replay-"));
  files = [join(dir, "gsm8k-dev.jsonl"), join(dir, "mmlu-dev.jsonl"), join(dir, "mt_bench.jsonl")];
  writeFileSync(files[0] as string, jsonl(GSM));
  writeFileSync(files[1] as string, `\n${jsonl(MMLU_LINES)}\n`);
  writeFileSync(files[2] as string, jsonl(MT));
  replay = loadReplay(files, { weakModels: WEAK, strongModels: STRONG });
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("loadReplay", () => {
  it("loads every format, keys rows by dataset:id and skips repeated ids", () => {
    expect(replay.rows).toHaveLength(GSM.length + MMLU.length + MT.length);
    expect(replay.skipped).toBe(1);
    expect(replay.row("gsm8k:g1")?.kind).toBe("answered");
    expect(replay.row("mmlu:m0")).toMatchObject({ kind: "choice", category: "trivia", weakCorrect: true });
    expect(replay.row("mt_bench:mt1-2")).toMatchObject({ kind: "scored", turn: 2, prompt: "Now make it rhyme.", context: ["Write a poem about the sea."] });
  });

  it("weak models answer with the weak record, strong models with the strong one (trimmed)", () => {
    const msgs = [{ role: "system", content: "Be brief." }, user(GSM[0]?.prompt ?? "")];
    for (const m of WEAK) expect(replay.answerFor(m, msgs)).toEqual({ text: "Tom has 3 + 4 = 12 apples.\n#### 12", rowId: "gsm8k:g1", side: "weak" });
    for (const m of STRONG) expect(replay.answerFor(m, msgs)).toEqual({ text: "Tom has 3 + 4 = 7 apples.\n#### 7", rowId: "gsm8k:g1", side: "strong" });
    expect(replay.sideOf("gpt-4o-mini")).toBe("weak");
    expect(replay.sideOf("gpt-4.1-nano")).toBeUndefined();
    expect(replay.answerFor("gpt-4.1-nano", msgs)).toBeUndefined();
  });

  it("matches on the last user message, exact after trimming, in OpenAI or Anthropic content shapes", () => {
    const prompt = GSM[1]?.prompt ?? "";
    expect(replay.answerFor("gpt-4o", [user(`  ${prompt}\n`)])?.rowId).toBe("gsm8k:g2");
    expect(replay.answerFor("gpt-4o", [{ role: "user", content: [{ type: "text", text: prompt }] }])?.rowId).toBe("gsm8k:g2");
    // An earlier known prompt does not count; the last user message decides.
    expect(replay.answerFor("gpt-4o", [user(prompt), { role: "assistant", content: "30" }, user("And in 6 boxes?")])).toBeUndefined();
    expect(replay.answerFor("gpt-4o", [user(prompt.toLowerCase())])).toBeUndefined();
    expect(replay.answerFor("gpt-4o", [user(`${prompt} Explain.`)])).toBeUndefined();
    expect(replay.match([user("What is the capital of France?")])).toBeUndefined();
  });

  it("reports correctness per row and side; MT-Bench rows answer a placeholder and carry scores", () => {
    expect(replay.correctnessOf("gsm8k:g1", "weak")).toEqual({ correct: false });
    expect(replay.correctnessOf("gsm8k:g1", "strong")).toEqual({ correct: true });
    expect(replay.correctnessOf("mmlu:m0", "weak")).toEqual({ correct: true }); // the first of the repeated rows
    expect(replay.correctnessOf("mt_bench:mt1-2", "weak")).toEqual({ score: 4 });
    expect(replay.correctnessOf("mt_bench:mt1-2", "strong")).toEqual({ score: 8 });
    expect(replay.correctnessOf("gsm8k:nope", "weak")).toBeUndefined();

    expect(replay.answerFor("gpt-4o", [user("Write a poem about the sea.")])).toEqual({ text: "[strong answer to mt_bench:mt1-1]", rowId: "mt_bench:mt1-1", side: "strong" });
    // The same second turn in two conversations: the earlier turn picks the row.
    const turn2 = (first: string): unknown[] => [user(first), { role: "assistant", content: "..." }, user("Now make it rhyme.")];
    expect(replay.answerFor("gpt-4o-mini", turn2("Write a poem about the sea."))).toEqual({ text: "[weak answer to mt_bench:mt1-2]", rowId: "mt_bench:mt1-2", side: "weak" });
    expect(replay.answerFor("gpt-4o-mini", turn2("Write a story about a cat."))?.rowId).toBe("mt_bench:mt2-2");
  });

  it("MMLU letters: right letter fixed by the id, same letter iff both right, a wrong side never gives the right letter", () => {
    const rights = new Set<string>();
    let bothWrongAgree = 0;
    let bothWrongDiffer = 0;
    for (const q of MMLU) {
      const row = replay.row(`mmlu:${q.id}`);
      expect(row?.kind).toBe("choice");
      const letters = choiceLetters(q.id, q.weak_correct, q.strong_correct);
      // The right letter depends on the id only, not on the flags.
      for (const [w, s] of FLAGS) expect(choiceLetters(q.id, w, s).right).toBe(letters.right);
      rights.add(letters.right);
      const said = (side: ReplaySide): string => replay.answerFor(side === "weak" ? "gpt-4o-mini" : "gpt-4o", [user(q.prompt)])?.text ?? "";
      expect(said("weak")).toBe(`The answer is (${letters.weak}).`);
      expect(said("strong")).toBe(`The answer is (${letters.strong}).`);
      expect(letters.weak === letters.right).toBe(q.weak_correct);
      expect(letters.strong === letters.right).toBe(q.strong_correct);
      if (q.weak_correct && q.strong_correct) expect(letters.weak).toBe(letters.strong);
      else if (q.weak_correct !== q.strong_correct) expect(letters.weak).not.toBe(letters.strong);
      else if (letters.weak === letters.strong) bothWrongAgree++;
      else bothWrongDiffer++;
      // A wrong side's letter is fixed per question and side (it does not depend on the other side's flag).
      if (!q.weak_correct) expect(choiceLetters(q.id, false, true).weak).toBe(letters.weak);
      expect(choiceLetters(q.id, q.weak_correct, q.strong_correct)).toEqual(letters);
    }
    expect([...rights].sort()).toEqual(["A", "B", "C", "D"]);
    // Both wrong: deterministic by hash, sometimes agreeing, sometimes not.
    expect(bothWrongAgree).toBeGreaterThan(5);
    expect(bothWrongDiffer).toBeGreaterThan(5);
  });

  it("rejects a model mapped to both sides and malformed rows (naming file and line)", () => {
    expect(() => loadReplay(files, { weakModels: ["gpt-4o"], strongModels: ["gpt-4o"] })).toThrow(/both the weak and the strong side/);
    expect(() => parseReplayJsonl('{"id":"x","prompt":"p","weak_correct":true,"strong_correct":true}\n{"id":"y","prompt":"q"}\n', "bad.jsonl")).toThrow(/bad\.jsonl:2: .*booleans/);
    expect(() => parseReplayJsonl("not json\n", "bad.jsonl")).toThrow(/bad\.jsonl:1: invalid JSON/);
  });
});

describe("replay through a running simulator", () => {
  let sim: Simulator;
  let plain: Simulator;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    sim = await startSimulator({ replay: { files, weakModels: WEAK, strongModels: STRONG } });
    plain = await startSimulator();
    openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: "x", maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: sim.url, apiKey: "x", maxRetries: 0 });
  });
  afterAll(async () => {
    await sim.close();
    await plain.close();
  });

  it("serves a GSM8K row's recorded answers over OpenAI chat, with tokenizer usage", async () => {
    const messages = [user(GSM[0]?.prompt ?? "")];
    const weak = await openai.chat.completions.create({ model: "gpt-4o-mini", messages });
    const strong = await openai.chat.completions.create({ model: "gpt-4o", messages });
    const weakText = "Tom has 3 + 4 = 12 apples.\n#### 12";
    expect(weak.choices[0]?.message.content).toBe(weakText);
    expect(weak.choices[0]?.finish_reason).toBe("stop");
    expect(weak.usage?.completion_tokens).toBe(tokens(weakText));
    expect(weak.usage?.prompt_tokens).toBe(4 + tokens(GSM[0]?.prompt ?? "") + 3);
    expect(strong.choices[0]?.message.content).toBe("Tom has 3 + 4 = 7 apples.\n#### 7");
    expect(sim.replay?.correctnessOf("gsm8k:g1", "strong")).toEqual({ correct: true });

    const stream = await openai.chat.completions.create({ model: "gpt-4o-mini", messages, stream: true, stream_options: { include_usage: true } });
    let streamed = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      streamed += chunk.choices[0]?.delta?.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(streamed).toBe(weakText);
    expect(usage?.completion_tokens).toBe(tokens(weakText));
  });

  it("serves an MMLU row's letters over OpenAI chat", async () => {
    const q = MMLU[2]; // weak wrong, strong right
    const letters = choiceLetters(q?.id ?? "", false, true);
    const ask = async (model: string): Promise<string> =>
      (await openai.chat.completions.create({ model, messages: [{ role: "system", content: "Answer with a letter." }, user(q?.prompt ?? "")] })).choices[0]?.message.content ?? "";
    expect(await ask("gpt-4o-mini")).toBe(`The answer is (${letters.weak}).`);
    expect(await ask("gpt-4o")).toBe(`The answer is (${letters.strong}).`);
    expect(letters.strong).toBe(letters.right);
    expect(letters.weak).not.toBe(letters.right);
  });

  it("serves replayed answers over Anthropic messages, streaming and not", async () => {
    const params = { model: "claude-sonnet-4-5", max_tokens: 500, messages: [user(GSM[1]?.prompt ?? "")] };
    const text = "5 boxes x 6 eggs = 30 eggs.\n#### 30";
    const m = await anthropic.messages.create(params);
    expect(m.content).toEqual([{ type: "text", text }]);
    expect(m.usage.output_tokens).toBe(tokens(text));
    const final = await anthropic.messages.stream({ ...params, model: "claude-3-5-haiku-latest" }).finalMessage();
    expect(final.content).toEqual([{ type: "text", text: "6 * 5 = 30\n#### 30" }]);
  });

  it("falls back to the simulated answer for unknown prompts and unmapped models", async () => {
    const other = new OpenAI({ baseURL: `${plain.url}/v1`, apiKey: "x", maxRetries: 0 });
    const unknown = [user("What is a cache?")];
    const a = await openai.chat.completions.create({ model: "gpt-4o-mini", messages: unknown });
    const b = await other.chat.completions.create({ model: "gpt-4o-mini", messages: unknown });
    expect(a.choices[0]?.message.content).toBe(b.choices[0]?.message.content);
    const known = [user(GSM[0]?.prompt ?? "")];
    const c = await openai.chat.completions.create({ model: "gpt-4.1-nano", messages: known });
    const d = await other.chat.completions.create({ model: "gpt-4.1-nano", messages: known });
    expect(c.choices[0]?.message.content).toBe(d.choices[0]?.message.content);
    // The plain simulator (same process, same memo) still simulates a replayed prompt.
    const e = await other.chat.completions.create({ model: "gpt-4o-mini", messages: known });
    expect(e.choices[0]?.message.content).not.toContain("####");
    expect(sim.stats().replay?.misses).toBeGreaterThanOrEqual(1);
    expect(sim.stats().replay?.hits).toBeGreaterThanOrEqual(1);
    expect(plain.stats().replay).toBeUndefined();
  });

  it("refuses a mapped model the simulator does not serve", async () => {
    await expect(startSimulator({ replay: { files, weakModels: ["gpt-4o-mni"], strongModels: [] } })).rejects.toThrow(/gpt-4o-mni/);
  });
});
