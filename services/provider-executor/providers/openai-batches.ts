// OpenAI's Batch API (and OpenAI-compatible servers that have one): the JSONL is uploaded as a file with
// each line's body.model set to the upstream name, and the provider's own objects are passed through.
import { ConnectError, Code } from "@connectrpc/connect";
import OpenAI, { toFile } from "openai";
import { wrapProviderCall, type BatchApiInit, type OpenAIBatchJson, type ProviderBatchApi } from "./batch-api.ts";

/** How far back FindBatch looks: well past the 24 h completion window, bounded in calls. */
const FIND_MAX_AGE_SEC = 7 * 86_400;
const FIND_MAX_SCANNED = 1_000;

/** Sets every line's body.model to the deployment's upstream name; blank lines dropped. */
export function upstreamJsonl(jsonl: string, upstreamModel: string): string {
  const out: string[] = [];
  for (const raw of jsonl.split("\n")) {
    const text = raw.trim();
    if (text.length === 0) continue;
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch {
      throw new ConnectError("batch input line is not valid JSON", Code.InvalidArgument);
    }
    if (typeof line !== "object" || line === null) throw new ConnectError("batch line is not a JSON object", Code.InvalidArgument);
    const rec = line as Record<string, unknown>;
    const body = rec["body"];
    const newBody = typeof body === "object" && body !== null ? { ...(body as Record<string, unknown>), model: upstreamModel } : body;
    out.push(JSON.stringify({ ...rec, body: newBody }));
  }
  return `${out.join("\n")}\n`;
}

export function createOpenAIBatchApi(o: BatchApiInit): ProviderBatchApi {
  // Platform fetch, not the hot-path undici one: uploads are multipart and this path is rare.
  const client = new OpenAI({ baseURL: o.dep.baseURL, apiKey: o.apiKey, maxRetries: 1, timeout: o.timeoutMs, logLevel: "off" });
  const call = <T>(f: () => Promise<T>) => wrapProviderCall(OpenAI.APIError, f);
  const json = (b: OpenAI.Batch): OpenAIBatchJson => b as unknown as OpenAIBatchJson;
  return {
    async create(i) {
      const upload = await toFile(Buffer.from(upstreamJsonl(i.inputJsonl, o.dep.upstreamModel)), "batch_input.jsonl");
      const file = await call(() => client.files.create({ file: upload, purpose: "batch" }));
      const metadata = Object.keys(i.metadata).length > 0 ? { metadata: i.metadata } : {};
      const batch = await call(() =>
        client.batches.create({
          input_file_id: file.id,
          endpoint: i.endpoint as OpenAI.BatchCreateParams["endpoint"],
          completion_window: i.completionWindow as OpenAI.BatchCreateParams["completion_window"],
          ...metadata,
        }),
      );
      return json(batch);
    },
    async get(id) {
      return json(await call(() => client.batches.retrieve(id)));
    },
    async output(fileId) {
      const res = await call(() => client.files.content(fileId));
      return new Uint8Array(await res.arrayBuffer());
    },
    async find(key, value) {
      // OpenAI lists newest first and cannot filter by metadata: scan pages back to the age bound.
      const oldest = Math.floor(Date.now() / 1000) - FIND_MAX_AGE_SEC;
      return call(async () => {
        let scanned = 0;
        for await (const b of client.batches.list({ limit: 100 })) {
          if (b.metadata?.[key] === value) return json(b);
          if (b.created_at < oldest || ++scanned >= FIND_MAX_SCANNED) break;
        }
        return undefined;
      });
    },
    async cancel(id) {
      return json(await call(() => client.batches.cancel(id)));
    },
  };
}
