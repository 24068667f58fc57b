// Provider type → adapter constructor. Adding a provider = its name in PROVIDER_TYPES
// (libs/config/closed-sets.ts), one adapter file and one line here; a type without an adapter fails to compile.
import type { ProviderType } from "#libs/config/closed-sets.ts";
import { createAnthropicAdapter } from "./anthropic.ts";
import { createOpenAIAdapter } from "./openai.ts";
import type { ProviderAdapter } from "./types.ts";

export interface AdapterInit {
  providerId: string;
  baseURL: string;
  apiKey: string;
  timeoutMs: number;
  /** The fetch the SDK uses (default: the shared undici-backed one). */
  fetch?: typeof fetch;
}

export type AdapterFactory = (o: AdapterInit) => ProviderAdapter;

// `satisfies` rejects a missing provider type and an extra key alike: the registry covers exactly PROVIDER_TYPES.
export const ADAPTERS = {
  openai: createOpenAIAdapter,
  anthropic: createAnthropicAdapter,
} as const satisfies Readonly<Record<ProviderType, AdapterFactory>>;
