// The edge's side of stored responses: saved in (and read from) the ledger's database through its
// RPCs, always scoped to the caller's tenant. A continued conversation is rebuilt from the chain of
// stored turns: each turn's input items, then its output items.
import { errors, GatewayError } from "#libs/errors/openai-error.ts";
import type { StoredResponse } from "#libs/gen/llmgw/ledger/v1/ledger_pb.ts";
import type { EdgeClients } from "../deps.ts";
import { responseIdOfItem } from "./ids.ts";
import { inputItemsSchema, type InputItem } from "./request-schema.ts";
import type { ResponseObject } from "./to-response.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface Conversation {
  /** Every earlier turn's input and output items, oldest first. */
  items: InputItem[];
  /** The previous response: its model and provider keep the conversation where its prompt cache is warm. */
  last: StoredResponse;
  /** The first turn's id: the conversation's identity for routing stickiness. */
  rootId: string;
}

export const previousNotFound = (id: string): GatewayError =>
  new GatewayError({ status: 400, message: `Previous response with id '${id}' not found.`, type: "invalid_request_error", param: "previous_response_id", code: "previous_response_not_found" });

export const responseNotFound = (id: string): GatewayError =>
  new GatewayError({ status: 404, message: `Response with id '${id}' not found.`, type: "invalid_request_error", param: null, code: "not_found" });

export class ResponseStoreClient {
  constructor(private readonly ledger: EdgeClients["ledger"]) {}

  async save(tenantId: string, response: ResponseObject, input: readonly InputItem[], provider: string): Promise<void> {
    await this.ledger.putResponse({
      response: {
        id: response.id,
        tenantId,
        previousResponseId: response.previous_response_id ?? "",
        model: response.model,
        provider,
        inputJson: encoder.encode(JSON.stringify(input)),
        responseJson: encoder.encode(JSON.stringify(response)),
      },
    });
  }

  async get(tenantId: string, id: string): Promise<ResponseObject | undefined> {
    const r = await this.ledger.getResponse({ tenantId, id });
    // Our own JSON, written by save().
    return r.found && r.response ? (JSON.parse(decoder.decode(r.response.responseJson)) as ResponseObject) : undefined;
  }

  /** A stored turn's own input items; undefined when there is no such response for this tenant. */
  async input(tenantId: string, id: string): Promise<InputItem[] | undefined> {
    const r = await this.ledger.getResponse({ tenantId, id });
    return r.found && r.response ? storedItems(r.response.id, r.response.inputJson) : undefined;
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    return (await this.ledger.deleteResponse({ tenantId, id })).deleted;
  }

  /** The conversation up to and including `previousId`; 400 previous_response_not_found when any turn of it is gone. */
  async conversation(tenantId: string, previousId: string): Promise<Conversation> {
    const r = await this.ledger.getResponse({ tenantId, id: previousId, includeHistory: true });
    if (!r.found || !r.response) throw previousNotFound(previousId);
    if (r.missingId) throw previousNotFound(r.missingId);
    const chain = [...r.history, r.response];
    return { items: chain.flatMap(turnItems), last: r.response, rootId: chain[0]?.id ?? previousId };
  }

  /**
   * `item_reference` items (clients such as the Vercel AI SDK send them for stored output) → the items
   * they name, from the conversation at hand or from the response the item id names.
   */
  async resolveReferences(tenantId: string, items: readonly InputItem[], known: readonly InputItem[]): Promise<InputItem[]> {
    if (!items.some((i) => i.type === "item_reference")) return [...items];
    const byId = new Map<string, InputItem>();
    const index = (list: readonly InputItem[]) => list.forEach((i) => "id" in i && typeof i.id === "string" && i.type !== "item_reference" && byId.set(i.id, i));
    index(known);
    const out: InputItem[] = [];
    for (const [n, item] of items.entries()) {
      if (item.type !== "item_reference") {
        out.push(item);
        continue;
      }
      if (!byId.has(item.id)) {
        const responseId = responseIdOfItem(item.id);
        const r = responseId ? await this.ledger.getResponse({ tenantId, id: responseId }) : undefined;
        if (r?.found && r.response) index(turnItems(r.response));
      }
      const found = byId.get(item.id);
      if (!found) throw errors.badRequest(`Item with id '${item.id}' not found.`, `input[${n}].id`, "item_not_found");
      out.push(found);
    }
    return out;
  }
}

/** One stored turn as conversation items: what was asked, then what was answered. */
function turnItems(r: StoredResponse): InputItem[] {
  const response = JSON.parse(decoder.decode(r.responseJson)) as { output?: unknown };
  return [...storedItems(r.id, r.inputJson), ...storedItems(r.id, encoder.encode(JSON.stringify(response.output ?? [])))];
}

function storedItems(id: string, json: Uint8Array): InputItem[] {
  const items = inputItemsSchema.safeParse(JSON.parse(decoder.decode(json)));
  // Validated when stored; a row that no longer parses is a gateway fault, not the caller's.
  if (!items.success) throw errors.internal(`Stored response '${id}' could not be read.`);
  return items.data;
}
