// Chat completion → Responses API objects: output items (an assistant message, function calls),
// usage in the Responses shape, and the Response object with the request's settings echoed, as
// OpenAI returns it. `output_text` is not on the wire: it is the SDKs' own convenience.
import type OpenAI from "openai";
import { functionCallItemId, messageItemId } from "./ids.ts";
import type { ResponsesRequest } from "./request-schema.ts";

/** `store` is on OpenAI's wire object though not in the SDK's type. */
export type ResponseObject = Omit<OpenAI.Responses.Response, "output_text"> & { store: boolean };
export type OutputItem = OpenAI.Responses.ResponseOutputMessage | OpenAI.Responses.ResponseFunctionToolCall;
export type ResponseStatus = "completed" | "incomplete" | "failed" | "in_progress";

/** What every Response object of one request shares. */
export interface ResponseFrame {
  id: string;
  /** Unix seconds. */
  createdAt: number;
  req: ResponsesRequest;
  previousResponseId: string | null;
  store: boolean;
}

export interface Outcome {
  status: ResponseStatus;
  model: string;
  output: OutputItem[];
  usage?: OpenAI.Responses.ResponseUsage;
  incompleteReason?: "max_output_tokens" | "content_filter";
  error?: OpenAI.Responses.ResponseError;
}

/** The answer's output items: text (and a refusal) as one message, then each tool call. */
export function outputOfCompletion(responseId: string, completion: OpenAI.Chat.ChatCompletion): Pick<Outcome, "output" | "status" | "incompleteReason"> {
  const choice = completion.choices[0];
  const output: OutputItem[] = [];
  const content: OpenAI.Responses.ResponseOutputMessage["content"] = [];
  const text = choice?.message.content;
  if (text) content.push(outputText(text));
  if (choice?.message.refusal) content.push({ type: "refusal", refusal: choice.message.refusal });
  const incompleteReason = incompleteOf(choice?.finish_reason);
  if (content.length > 0) output.push({ id: messageItemId(responseId, 0), type: "message", role: "assistant", status: incompleteReason ? "incomplete" : "completed", content });
  for (const call of choice?.message.tool_calls ?? []) {
    if (call.type !== "function") continue;
    output.push({ id: functionCallItemId(responseId, output.length), type: "function_call", status: "completed", call_id: call.id, name: call.function.name, arguments: call.function.arguments });
  }
  return { output, status: incompleteReason ? "incomplete" : "completed", ...(incompleteReason ? { incompleteReason } : {}) };
}

export function outputText(text: string): OpenAI.Responses.ResponseOutputText {
  return { type: "output_text", text, annotations: [], logprobs: [] };
}

export function incompleteOf(finishReason: string | null | undefined): Outcome["incompleteReason"] {
  if (finishReason === "length") return "max_output_tokens";
  if (finishReason === "content_filter") return "content_filter";
  return undefined;
}

/** Chat usage → Responses usage (input counts cached tokens, output counts reasoning tokens, as both APIs do). */
export function responseUsage(u: OpenAI.CompletionUsage | null | undefined): OpenAI.Responses.ResponseUsage {
  const input = u?.prompt_tokens ?? 0;
  const output = u?.completion_tokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: u?.prompt_tokens_details?.cached_tokens ?? 0, cache_write_tokens: u?.prompt_tokens_details?.cache_write_tokens ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: u?.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: u?.total_tokens ?? input + output,
  };
}

/** The Response object: the outcome plus the request's settings, echoed as OpenAI echoes them. */
export function responseObject(frame: ResponseFrame, o: Outcome): ResponseObject {
  const { req } = frame;
  const tools: OpenAI.Responses.FunctionTool[] = (req.tools ?? []).map((t) => ({ type: "function", name: t.name, description: t.description ?? null, parameters: t.parameters ?? null, strict: t.strict ?? null }));
  const format: OpenAI.Responses.ResponseFormatTextConfig = req.text?.format ?? { type: "text" };
  return {
    id: frame.id,
    object: "response",
    created_at: frame.createdAt,
    status: o.status,
    ...(o.status === "completed" || o.status === "incomplete" ? { completed_at: Math.floor(Date.now() / 1000) } : {}),
    background: false,
    error: o.error ?? null,
    incomplete_details: o.incompleteReason ? { reason: o.incompleteReason } : null,
    instructions: req.instructions ?? null,
    max_output_tokens: req.max_output_tokens ?? null,
    metadata: req.metadata ?? {},
    model: o.model,
    output: o.output,
    parallel_tool_calls: req.parallel_tool_calls ?? true,
    previous_response_id: frame.previousResponseId,
    reasoning: { effort: req.reasoning?.effort ?? null, summary: null },
    service_tier: "default",
    store: frame.store,
    temperature: req.temperature ?? 1,
    text: { format },
    tool_choice: req.tool_choice ?? "auto",
    tools,
    top_p: req.top_p ?? 1,
    truncation: "disabled",
    ...(o.usage ? { usage: o.usage } : {}),
    ...(req.user ? { user: req.user } : {}),
  };
}
