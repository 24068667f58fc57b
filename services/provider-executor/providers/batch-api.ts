// What every provider's batch API offers the executor's batch RPCs: OpenAI batch objects and OpenAI
// output JSONL out, whatever the provider speaks (a provider without a batch API has no entry in
// BATCH_APIS, batch-apis.ts). Stateless: the caller names the model and the provider ids on every call.
import { ConnectError, Code } from "@connectrpc/connect";
import type { Deployment } from "../domain/deployments.ts";

/** An OpenAI batch object (https://platform.openai.com/docs/api-reference/batch/object). */
export type OpenAIBatchJson = Record<string, unknown>;

export interface BatchCreate {
  /** OpenAI batch JSONL: {custom_id, method, url, body} lines; body.model is replaced by the upstream name. */
  inputJsonl: string;
  endpoint: string;
  completionWindow: string;
  /** The provider batch's metadata where it has any (OpenAI); FindBatch looks batches up by it. */
  metadata: Record<string, string>;
}

export interface BatchFindHint {
  /** Every custom_id of the wanted batch starts with it ("" = unknown). */
  customIdPrefix: string;
  /** Unix seconds: the wanted batch was created no earlier (0 = unknown). */
  createdAfterSec: number;
}

export interface ProviderBatchApi {
  create(i: BatchCreate): Promise<OpenAIBatchJson>;
  get(providerBatchId: string): Promise<OpenAIBatchJson>;
  /** The content of an output_file_id / error_file_id the batch object named: OpenAI batch output JSONL. */
  output(providerFileId: string): Promise<Uint8Array>;
  /**
   * The newest batch whose metadata[key] = value, or undefined. Providers without metadata (Anthropic)
   * match on hint.customIdPrefix instead, answer "pending" while a candidate batch is still running, and
   * Unimplemented without a prefix.
   */
  find(key: string, value: string, hint?: BatchFindHint): Promise<OpenAIBatchJson | "pending" | undefined>;
  cancel(providerBatchId: string): Promise<OpenAIBatchJson>;
}

export interface BatchApiInit {
  dep: Readonly<Deployment>;
  apiKey: string;
  timeoutMs: number;
}

export type BatchApiFactory = (o: BatchApiInit) => ProviderBatchApi;

type SdkApiError = abstract new (...args: never[]) => Error & { status: number | undefined };

/** Provider HTTP errors → Connect codes the edge maps to OpenAI-shaped errors. */
export async function wrapProviderCall<T>(apiError: SdkApiError, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof ConnectError) throw e;
    if (e instanceof apiError) {
      const status = e.status ?? 0;
      const code =
        status === 404 ? Code.NotFound : status === 400 || status === 409 || status === 422 ? Code.InvalidArgument : status === 429 ? Code.ResourceExhausted : status === 401 || status === 403 ? Code.PermissionDenied : Code.Unavailable;
      throw new ConnectError(`provider error ${status}: ${e.message}`, code);
    }
    throw new ConnectError(`provider call failed: ${e instanceof Error ? e.message : String(e)}`, Code.Unavailable);
  }
}
