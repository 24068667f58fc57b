import OpenAI from "openai";
import type { Embedder } from "../domain/types.ts";

/** Any OpenAI-compatible /v1/embeddings endpoint (OpenAI, vLLM, Ollama, TEI...) by base URL and model. */
export interface OpenAIEmbedderOptions {
  baseURL: string;
  apiKey: string;
  model: string;
  dim: number;
  /** Bump when the served model changes under the same name; it is part of every cache key. */
  version?: string;
  timeoutMs?: number;
  client?: OpenAI;
}

export class OpenAIEmbedder implements Embedder {
  readonly name: string;
  readonly version: string;
  readonly dim: number;
  private readonly client: OpenAI;

  constructor(private readonly o: OpenAIEmbedderOptions) {
    this.name = `openai:${o.model}`;
    this.version = o.version ?? "1";
    this.dim = o.dim;
    this.client = o.client ?? new OpenAI({ baseURL: o.baseURL, apiKey: o.apiKey, timeout: o.timeoutMs ?? 2000, maxRetries: 0 });
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const res = await this.client.embeddings.create({ model: this.o.model, input: texts, encoding_format: "float" });
    const out: Float32Array[] = new Array<Float32Array>(texts.length);
    for (const d of res.data) {
      const v = Float32Array.from(d.embedding);
      if (v.length !== this.dim) throw new Error(`embedding dim ${v.length} != configured ${this.dim}`);
      let norm = 0;
      for (const x of v) norm += x * x;
      norm = Math.sqrt(norm) || 1;
      for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) / norm;
      out[d.index] = v;
    }
    return out;
  }
}
