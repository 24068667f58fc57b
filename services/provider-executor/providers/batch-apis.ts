// Provider type → its batch API, for the executor's batch RPCs. A type without one (none today) gets
// FailedPrecondition from ProviderBatches; a provider with a batch API = one file and one line here.
import type { ProviderType } from "#libs/config/closed-sets.ts";
import { createAnthropicBatchApi } from "./anthropic-batches.ts";
import type { BatchApiFactory } from "./batch-api.ts";
import { createOpenAIBatchApi } from "./openai-batches.ts";

export const BATCH_APIS: Readonly<Partial<Record<ProviderType, BatchApiFactory>>> = {
  openai: createOpenAIBatchApi,
  anthropic: createAnthropicBatchApi,
};
