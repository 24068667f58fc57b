// GET /v1/responses/{id}/input_items: a stored turn's input as OpenAI lists it — every item with an
// id (the client's own, else one made from the response id and the item's place), messages with
// their content as parts, newest first unless order=asc, paged by `after` and `limit`.
import type OpenAI from "openai";
import { errors } from "#libs/errors/openai-error.ts";
import type { ContentPart, InputItem } from "./request-schema.ts";
import { outputText } from "./to-response.ts";

export type ListedItem =
  | OpenAI.Responses.ResponseInputMessageItem
  | OpenAI.Responses.ResponseOutputMessage
  | OpenAI.Responses.ResponseFunctionToolCallItem
  | OpenAI.Responses.ResponseFunctionToolCallOutputItem;

export interface ItemPage {
  object: "list";
  data: ListedItem[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

export interface PageQuery {
  order: "asc" | "desc";
  limit: number;
  after?: string;
}

/** The query string, checked: a bad value is a 400 naming it. */
export function pageQuery(q: Record<string, unknown>): PageQuery {
  const order = q["order"] ?? "desc";
  if (order !== "asc" && order !== "desc") throw errors.badRequest("'order' must be 'asc' or 'desc'.", "order", "invalid_value");
  const limitRaw = q["limit"] ?? "20";
  const limit = typeof limitRaw === "string" && /^\d+$/.test(limitRaw) ? Number(limitRaw) : NaN;
  if (!(limit >= 1 && limit <= 100)) throw errors.badRequest("'limit' must be an integer from 1 to 100.", "limit", "invalid_value");
  const after = q["after"];
  if (after !== undefined && typeof after !== "string") throw errors.badRequest("'after' must be an item id.", "after", "invalid_value");
  return { order, limit, ...(after ? { after } : {}) };
}

/** A stored turn's input items as listed items (reasoning items, which no model here takes, are left out). */
export function listedItems(responseId: string, items: readonly InputItem[]): ListedItem[] {
  const hex = responseId.slice("resp_".length);
  const out: ListedItem[] = [];
  items.forEach((item, i) => {
    const own = "id" in item && typeof item.id === "string" && item.id ? item.id : undefined;
    switch (item.type) {
      case "message":
        if (item.role === "assistant") {
          const text = typeof item.content === "string" ? item.content : item.content.map((p) => (p.type === "refusal" ? p.refusal : p.type === "input_image" ? "" : p.text)).join("");
          out.push({ id: own ?? `msg_${hex}_in${i}`, type: "message", role: "assistant", status: "completed", content: [outputText(text)] });
        } else {
          out.push({ id: own ?? `msg_${hex}_in${i}`, type: "message", role: item.role, status: "completed", content: inputParts(item.content) });
        }
        break;
      case "function_call":
        out.push({ id: own ?? `fc_${hex}_in${i}`, type: "function_call", status: "completed", call_id: item.call_id, name: item.name, arguments: item.arguments });
        break;
      case "function_call_output":
        out.push({ id: own ?? `fco_${hex}_in${i}`, type: "function_call_output", status: "completed", call_id: item.call_id, output: typeof item.output === "string" ? item.output : inputParts(item.output) });
        break;
      default:
        break;
    }
  });
  return out;
}

function inputParts(content: string | ContentPart[]): OpenAI.Responses.ResponseInputMessageContentList {
  if (typeof content === "string") return [{ type: "input_text", text: content }];
  return content.map((p) =>
    p.type === "input_image" ? { type: "input_image", image_url: p.image_url ?? null, detail: p.detail ?? "auto" } : { type: "input_text", text: p.type === "refusal" ? p.refusal : p.text },
  );
}

export function page(items: readonly ListedItem[], q: PageQuery): ItemPage {
  const ordered = q.order === "desc" ? [...items].reverse() : [...items];
  let start = 0;
  if (q.after !== undefined) {
    const at = ordered.findIndex((i) => i.id === q.after);
    if (at < 0) throw errors.badRequest(`No item with id '${q.after}' in this response's input.`, "after", "invalid_value");
    start = at + 1;
  }
  const data = ordered.slice(start, start + q.limit);
  return { object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: start + q.limit < ordered.length };
}
