// One stored form for vectors (base64 of little-endian float32, what OpenAI sends for
// encoding_format=base64), and the client's form on the way out. Float and base64 requests share
// one cache entry, and a float answer is the very float32 values the provider computed.
import type OpenAI from "openai";

/** An embeddings list whose vectors are base64 float32. */
export interface StoredEmbeddings {
  object: "list";
  model: string;
  data: { object: "embedding"; index: number; embedding: string }[];
  usage: { prompt_tokens: number; total_tokens: number };
}

export type EncodingFormat = "float" | "base64";

function floatsToBase64(v: readonly number[]): string {
  const f = Float32Array.from(v);
  return Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString("base64");
}

export function base64ToFloats(b64: string): number[] {
  const bytes = Buffer.from(b64, "base64");
  // Copy into an aligned buffer: a Buffer slice may start at any byte offset.
  const f = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(f.buffer).set(bytes.subarray(0, f.byteLength));
  return Array.from(f);
}

/**
 * The provider's answer in the stored form. Providers that ignore encoding_format and send floats
 * are accepted too. Throws on a shape that is not an embeddings list.
 */
export function toStored(raw: unknown, model: string): StoredEmbeddings {
  const r = raw as { data?: unknown; usage?: { prompt_tokens?: unknown; total_tokens?: unknown } };
  if (!r || !Array.isArray(r.data)) throw new Error("provider answer has no data array");
  const data = (r.data as { index?: unknown; embedding?: unknown }[]).map((d, i) => {
    const e = d.embedding;
    const embedding = typeof e === "string" ? e : Array.isArray(e) && e.every((x) => typeof x === "number") ? floatsToBase64(e as number[]) : undefined;
    if (embedding === undefined) throw new Error(`provider answer data[${i}] has no embedding`);
    return { object: "embedding" as const, index: typeof d.index === "number" ? d.index : i, embedding };
  });
  const prompt = typeof r.usage?.prompt_tokens === "number" ? r.usage.prompt_tokens : 0;
  const total = typeof r.usage?.total_tokens === "number" ? r.usage.total_tokens : prompt;
  return { object: "list", model, data, usage: { prompt_tokens: prompt, total_tokens: total } };
}

/** What the client receives, in the format it asked for (OpenAI's default is float). */
export function toClient(stored: StoredEmbeddings, format: EncodingFormat): OpenAI.CreateEmbeddingResponse {
  const data = stored.data.map((d) => ({ object: d.object, index: d.index, embedding: format === "base64" ? d.embedding : base64ToFloats(d.embedding) }));
  // The SDK types embedding as number[]; with base64 it is a string on the wire, as at OpenAI.
  return { ...stored, data } as unknown as OpenAI.CreateEmbeddingResponse;
}
