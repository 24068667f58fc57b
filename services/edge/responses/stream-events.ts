// A chat completion stream (the pipeline's chunks) → the Responses API's typed event stream:
// response.created / in_progress, then per output item output_item.added, content_part.added,
// output_text.delta ... done (or function_call_arguments.delta ... done), output_item.done, and
// response.completed (response.incomplete on a length stop) with usage. A failure after the first
// event is told in-band: an `error` event, then response.failed. Every event has a sequence_number.
import type OpenAI from "openai";
import { functionCallItemId, messageItemId } from "./ids.ts";
import { incompleteOf, outputText, responseObject, responseUsage, type OutputItem, type ResponseFrame, type ResponseObject } from "./to-response.ts";

type Unsequenced<T> = T extends unknown ? Omit<T, "sequence_number"> : never;
type R = OpenAI.Responses.ResponseStreamEvent;
type ItemEvent = Unsequenced<
  | OpenAI.Responses.ResponseOutputItemAddedEvent
  | OpenAI.Responses.ResponseOutputItemDoneEvent
  | OpenAI.Responses.ResponseContentPartAddedEvent
  | OpenAI.Responses.ResponseContentPartDoneEvent
  | OpenAI.Responses.ResponseTextDeltaEvent
  | OpenAI.Responses.ResponseTextDoneEvent
  | OpenAI.Responses.ResponseFunctionCallArgumentsDeltaEvent
  | OpenAI.Responses.ResponseFunctionCallArgumentsDoneEvent
  | OpenAI.Responses.ResponseErrorEvent
>;
/** The Response object in lifecycle events may carry the gateway's own extension field. */
export type LifecycleEvent = { type: "response.created" | "response.in_progress" | "response.completed" | "response.incomplete" | "response.failed"; response: ResponseObject & { llmgw?: Record<string, unknown> } };
export type ResponseEvent = (ItemEvent | LifecycleEvent) & { sequence_number: number };
// Our events are a subset of the SDK's union (checked here, so a renamed type fails to compile).
type Check = ItemEvent["type"] extends R["type"] ? true : never;
const _check: Check = true;
void _check;

/**
 * Called once at the end with the final Response object and the `llmgw` field of the chat stream's
 * last chunk (the gateway's cost, when the pipeline knew it); returns the extension to attach.
 */
export type OnEnd = (final: ResponseObject, gateway: Record<string, unknown> | undefined) => Promise<Record<string, unknown> | undefined>;

interface OpenMessage {
  outputIndex: number;
  id: string;
  text: string;
}

interface OpenCall {
  outputIndex: number;
  item: OpenAI.Responses.ResponseFunctionToolCall & { id: string };
}

interface ErrorBody {
  error: { message?: string; code?: string | null; param?: string | null; type?: string };
}

export async function* responseEvents(chunks: AsyncIterable<string>, frame: ResponseFrame, model: string, onEnd: OnEnd): AsyncGenerator<ResponseEvent> {
  let seq = 0;
  const ev = <E extends ItemEvent | LifecycleEvent>(e: E): E & { sequence_number: number } => ({ ...e, sequence_number: seq++ });
  const output: OutputItem[] = [];
  let message: OpenMessage | undefined;
  const calls = new Map<number, OpenCall>();
  let finishReason: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  let servedModel = model;
  let gateway: Record<string, unknown> | undefined;
  const snapshot = (status: "in_progress"): ResponseObject => responseObject(frame, { status, model: servedModel, output: [] });

  yield ev({ type: "response.created", response: snapshot("in_progress") });
  yield ev({ type: "response.in_progress", response: snapshot("in_progress") });

  function* closeMessage(): Generator<ResponseEvent> {
    if (!message) return;
    const m = message;
    message = undefined;
    const part = outputText(m.text);
    yield ev({ type: "response.output_text.done", item_id: m.id, output_index: m.outputIndex, content_index: 0, text: m.text, logprobs: [] });
    yield ev({ type: "response.content_part.done", item_id: m.id, output_index: m.outputIndex, content_index: 0, part });
    const item: OpenAI.Responses.ResponseOutputMessage = { id: m.id, type: "message", role: "assistant", status: incompleteOf(finishReason) ? "incomplete" : "completed", content: [part] };
    output[m.outputIndex] = item;
    yield ev({ type: "response.output_item.done", output_index: m.outputIndex, item });
  }

  function* closeCalls(): Generator<ResponseEvent> {
    for (const c of [...calls.values()].sort((a, b) => a.outputIndex - b.outputIndex)) {
      const item = { ...c.item, status: "completed" as const };
      output[c.outputIndex] = item;
      yield ev({ type: "response.function_call_arguments.done", item_id: item.id, output_index: c.outputIndex, name: item.name, arguments: item.arguments });
      yield ev({ type: "response.output_item.done", output_index: c.outputIndex, item });
    }
    calls.clear();
  }

  for await (const data of chunks) {
    const parsed = parse(data);
    if (parsed === undefined) continue;
    if (isErrorBody(parsed)) {
      // The provider failed after the stream started: what was produced is kept, the response failed.
      yield* closeMessage();
      yield* closeCalls();
      const message = parsed.error.message ?? "The provider failed during the stream.";
      const code = parsed.error.code ?? null;
      yield ev({ type: "error", code, message, param: parsed.error.param ?? null });
      const failed = responseObject(frame, { status: "failed", model: servedModel, output: output.filter(Boolean), error: { code: code === "rate_limit_exceeded" ? "rate_limit_exceeded" : "server_error", message } });
      const ext = await onEnd(failed, gateway);
      yield ev({ type: "response.failed", response: ext ? { ...failed, llmgw: ext } : failed });
      return;
    }
    const chunk = parsed;
    if (isRecord(chunk.llmgw)) gateway = chunk.llmgw;
    if (chunk.model) servedModel = chunk.model;
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices?.[0];
    if (!choice) continue;
    const delta = choice.delta;
    const text = (delta?.content ?? "") + (delta?.refusal ?? "");
    if (text) {
      if (!message) {
        yield* closeCalls();
        message = { outputIndex: output.length, id: messageItemId(frame.id, output.length), text: "" };
        const item: OpenAI.Responses.ResponseOutputMessage = { id: message.id, type: "message", role: "assistant", status: "in_progress", content: [] };
        output.push(item);
        yield ev({ type: "response.output_item.added", output_index: message.outputIndex, item });
        yield ev({ type: "response.content_part.added", item_id: message.id, output_index: message.outputIndex, content_index: 0, part: outputText("") });
      }
      message.text += text;
      yield ev({ type: "response.output_text.delta", item_id: message.id, output_index: message.outputIndex, content_index: 0, delta: text, logprobs: [] });
    }
    for (const tc of delta?.tool_calls ?? []) {
      let open = calls.get(tc.index);
      if (!open) {
        yield* closeMessage();
        const outputIndex = output.length;
        open = { outputIndex, item: { id: functionCallItemId(frame.id, outputIndex), type: "function_call", status: "in_progress", call_id: tc.id ?? "", name: tc.function?.name ?? "", arguments: "" } };
        calls.set(tc.index, open);
        output.push(open.item);
        yield ev({ type: "response.output_item.added", output_index: outputIndex, item: { ...open.item } });
      }
      const piece = tc.function?.arguments ?? "";
      if (piece) {
        open.item.arguments += piece;
        yield ev({ type: "response.function_call_arguments.delta", item_id: open.item.id, output_index: open.outputIndex, delta: piece });
      }
    }
    if (choice.finish_reason) finishReason = choice.finish_reason;
  }

  yield* closeMessage();
  yield* closeCalls();
  const incompleteReason = incompleteOf(finishReason);
  const final = responseObject(frame, { status: incompleteReason ? "incomplete" : "completed", model: servedModel, output, usage: responseUsage(usage), ...(incompleteReason ? { incompleteReason } : {}) });
  const ext = await onEnd(final, gateway);
  yield ev({ type: incompleteReason ? "response.incomplete" : "response.completed", response: ext ? { ...final, llmgw: ext } : final });
}

/** A chat chunk as the pipeline sends it: its last one may carry the gateway's `llmgw` field. */
type GatewayChunk = OpenAI.Chat.ChatCompletionChunk & { llmgw?: unknown };

function parse(data: string): GatewayChunk | ErrorBody | undefined {
  try {
    // Our own pipeline's JSON (chat chunks or an error body), not client input.
    const v = JSON.parse(data) as GatewayChunk | ErrorBody | null;
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isErrorBody(v: GatewayChunk | ErrorBody): v is ErrorBody {
  return "error" in v && typeof v.error === "object" && v.error !== null && !("choices" in v);
}
