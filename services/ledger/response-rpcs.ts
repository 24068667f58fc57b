// The ledger's Responses API RPCs (PutResponse, GetResponse, DeleteResponse) over its response store.
// Every call is scoped to a tenant: another tenant's id is simply not found.
import { Code } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { serviceError } from "#libs/errors/connect-to-openai.ts";
import type { DeleteResponseRequest, GetResponseRequest, PutResponseRequest, StoredResponseSchema } from "#libs/gen/llmgw/ledger/v1/ledger_pb.ts";
import type { ResponseStore, StoredResponseRow } from "./storage/response-store.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const ID = /^resp_[A-Za-z0-9_-]{1,200}$/;

export class ResponseRpcs {
  constructor(
    private readonly store: ResponseStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async put(req: PutResponseRequest): Promise<{ expiresAt: string }> {
    const r = req.response;
    if (!r?.tenantId) throw serviceError("response.tenant_id is required", Code.InvalidArgument, { param: "tenant_id" });
    if (!ID.test(r.id)) throw serviceError("response.id must look like resp_<id>", Code.InvalidArgument, { param: "id" });
    if (r.previousResponseId && !ID.test(r.previousResponseId)) throw serviceError("response.previous_response_id must look like resp_<id>", Code.InvalidArgument, { param: "previous_response_id" });
    const responseJson = decoder.decode(r.responseJson);
    const inputJson = decoder.decode(r.inputJson);
    if (!isJson(responseJson)) throw serviceError("response.response_json must be JSON", Code.InvalidArgument, { param: "response_json" });
    if (!isJson(inputJson)) throw serviceError("response.input_json must be JSON", Code.InvalidArgument, { param: "input_json" });
    const expiresAt = await this.store.put({ id: r.id, tenantId: r.tenantId, previousId: r.previousResponseId, model: r.model, provider: r.provider, inputJson, responseJson }, this.now());
    return { expiresAt };
  }

  async get(req: GetResponseRequest) {
    if (!req.tenantId) throw serviceError("tenant_id is required", Code.InvalidArgument, { param: "tenant_id" });
    if (!req.id) return { found: false };
    if (!req.includeHistory) {
      const row = await this.store.get(req.tenantId, req.id, this.now());
      return row ? { found: true, response: toProto(row) } : { found: false };
    }
    const c = await this.store.chain(req.tenantId, req.id, this.now());
    const last = c?.chain.at(-1);
    if (!c || !last) return { found: false };
    return { found: true, response: toProto(last), history: c.chain.slice(0, -1).map(toProto), missingId: c.missingId };
  }

  async delete(req: DeleteResponseRequest): Promise<{ deleted: boolean }> {
    if (!req.tenantId) throw serviceError("tenant_id is required", Code.InvalidArgument, { param: "tenant_id" });
    return { deleted: await this.store.delete(req.tenantId, req.id, this.now()) };
  }
}

function toProto(r: StoredResponseRow): MessageInitShape<typeof StoredResponseSchema> {
  return {
    id: r.id,
    tenantId: r.tenantId,
    previousResponseId: r.previousId,
    model: r.model,
    provider: r.provider,
    inputJson: encoder.encode(r.inputJson),
    responseJson: encoder.encode(r.responseJson),
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
  };
}

function isJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}
