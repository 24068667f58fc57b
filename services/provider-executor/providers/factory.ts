// Provider type → adapter constructor. Adding a provider = one adapter file + one line here.
import { createAnthropicAdapter } from "./anthropic.ts";
import { createOpenAIAdapter } from "./openai.ts";
import type { ProviderAdapter } from "./types.ts";

export interface AdapterInit {
  providerId: string;
  baseURL: string;
  apiKey: string;
  timeoutMs: number;
}

export const ADAPTERS: Record<"openai" | "anthropic", (o: AdapterInit) => ProviderAdapter> = {
  openai: createOpenAIAdapter,
  anthropic: createAnthropicAdapter,
};
