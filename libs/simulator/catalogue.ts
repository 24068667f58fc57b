// Built-in model catalogue; other parts of the project reference these ids.
import type { SimModelSpec } from "./types.ts";

export const DEFAULT_MODELS: readonly SimModelSpec[] = Object.freeze([
  { id: "gpt-4o-mini", skill: 0.6, contextWindow: 128_000 },
  { id: "gpt-4o", skill: 0.9, contextWindow: 128_000 },
  { id: "gpt-4.1-nano", skill: 0.45, contextWindow: 1_047_576 },
  { id: "o3-mini", skill: 0.95, contextWindow: 200_000, reasoning: true },
  { id: "small-8k", skill: 0.4, contextWindow: 8_192 },
  { id: "claude-3-5-haiku-latest", skill: 0.65, contextWindow: 200_000 },
  { id: "claude-sonnet-4-5", skill: 0.92, contextWindow: 200_000 },
  { id: "text-embedding-3-small", skill: 1, contextWindow: 8_191, kind: "embedding", dimensions: 1536 },
  { id: "text-embedding-3-large", skill: 1, contextWindow: 8_191, kind: "embedding", dimensions: 3072 },
]);

export function isEmbeddingModel(m: SimModelSpec): boolean {
  return (m.kind ?? (m.id.startsWith("text-embedding") ? "embedding" : "chat")) === "embedding";
}
