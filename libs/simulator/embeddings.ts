// OpenAI embeddings. Vectors are feature-hashed bags of words (unit length), so texts sharing words are
// measurably similar — enough for semantic-cache tests to behave like they would on a real model.
import { hashString } from "./hash.ts";
import { positiveInt, str, type JsonRecord } from "./json-util.ts";
import { errorOutcome, jsonOutcome, type Outcome } from "./outcome.ts";
import { admit } from "./admission.ts";
import { isEmbeddingModel } from "./catalogue.ts";
import { parseMarkers } from "./markers.ts";
import type { SimState } from "./state.ts";
import { countTokens } from "./tokens.ts";

const STOPWORDS = new Set("a an the of to and or in on at for is are was were be been it its this that with as by from what how why who which do does did can could would should i you we they me my your".split(" "));
const SLOTS_PER_WORD = 6;

function normalizeWord(w: string): string {
  if (w.length > 4 && w.endsWith("'s")) w = w.slice(0, -2);
  if (w.length > 4 && w.endsWith("s") && !w.endsWith("ss")) w = w.slice(0, -1);
  return w;
}

const vectorMemo = new Map<string, Float32Array>();

export function embedText(text: string, dims: number): Float32Array {
  const key = `${dims}|${text}`;
  const hit = vectorMemo.get(key);
  if (hit !== undefined) return hit;
  const v = new Float32Array(dims);
  const words = text.toLowerCase().split(/[^a-z0-9']+/).filter((w) => w.length > 0);
  for (const raw of words) {
    const w = normalizeWord(raw);
    const weight = STOPWORDS.has(w) ? 0.25 : 1;
    let h = hashString(w);
    for (let k = 0; k < SLOTS_PER_WORD; k++) {
      const idx = h % dims;
      v[idx] = (v[idx] ?? 0) + (Math.floor(h / dims) % 2 === 0 ? weight : -weight);
      h = hashString(w, h >>> 0);
    }
  }
  let norm = 0;
  for (let i = 0; i < dims; i++) norm += (v[i] ?? 0) ** 2;
  if (norm === 0) v[hashString(text) % dims] = 1; // empty / symbol-only input still gets a unit vector
  else {
    const inv = 1 / Math.sqrt(norm);
    for (let i = 0; i < dims; i++) v[i] = (v[i] ?? 0) * inv;
  }
  if (vectorMemo.size >= 5_000) vectorMemo.clear();
  vectorMemo.set(key, v);
  return v;
}

function inputsOf(input: unknown): string[] | undefined {
  if (typeof input === "string") return [input];
  if (Array.isArray(input)) {
    if (input.length === 0) return undefined;
    if (input.every((x) => typeof x === "string")) return input;
    if (input.every((x) => typeof x === "number")) return [input.join(" ")];
    if (input.every((x) => Array.isArray(x))) return input.map((x: unknown[]) => x.join(" "));
  }
  return undefined;
}

export function createEmbeddings(state: SimState, body: JsonRecord): Outcome {
  const modelId = str(body["model"]);
  if (modelId === undefined) return errorOutcome("openai", { status: 400, message: "you must provide a model parameter", param: "model" });
  const model = state.models.get(modelId);
  if (model === undefined || !isEmbeddingModel(model)) {
    return errorOutcome("openai", { status: 404, message: `The model \`${modelId}\` does not exist or you do not have access to it.`, code: "model_not_found" });
  }
  const inputs = inputsOf(body["input"]);
  if (inputs === undefined) return errorOutcome("openai", { status: 400, message: "'input' must be a non-empty string or array", param: "input" });
  let tokens = 0;
  for (const s of inputs) tokens += countTokens(s);
  const maxPerInput = Math.max(...inputs.map(countTokens));
  const denied = admit(state, "openai", model, parseMarkers(inputs[inputs.length - 1] ?? ""), maxPerInput, undefined);
  if (denied !== undefined) return denied;
  const dims = positiveInt(body["dimensions"]) ?? model.dimensions ?? 1536;
  const base64 = body["encoding_format"] === "base64";
  const data = inputs.map((s, index) => {
    const v = embedText(s, dims);
    return { object: "embedding", index, embedding: base64 ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") : Array.from(v) };
  });
  return jsonOutcome(JSON.stringify({ object: "list", data, model: modelId, usage: { prompt_tokens: tokens, total_tokens: tokens } }));
}
