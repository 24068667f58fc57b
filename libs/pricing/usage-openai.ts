// OpenAI's usage object ↔ the gateway's disjoint UsageCounts: the one place that reads and writes the
// OpenAI wire format of usage (provider answers, cached answers, batch output lines, client responses).
import type OpenAI from "openai";
import type { Usage } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { tokenCount, toProtoUsage, type UsageCounts } from "./usage-types.ts";

/**
 * OpenAI usage: Chat Completions shape and Responses API shape (every field optional/nullable).
 * `prompt_tokens_details.cache_write_tokens` is what OpenAI-compatible servers (and the gateway itself,
 * for Anthropic answers) report as prompt-cache writes.
 */
export interface OpenAIUsageLike {
  prompt_tokens?: number | null;
  completion_tokens?: number | null;
  /** prompt + completion; not read (the kinds are counted from the other fields). */
  total_tokens?: number | null;
  prompt_tokens_details?: { cached_tokens?: number | null; cache_write_tokens?: number | null } | null;
  completion_tokens_details?: { reasoning_tokens?: number | null } | null;
  input_tokens?: number | null;
  output_tokens?: number | null;
  input_tokens_details?: { cached_tokens?: number | null } | null;
  output_tokens_details?: { reasoning_tokens?: number | null } | null;
}

/**
 * OpenAI counts cached reads (and cache writes, when reported) INSIDE prompt_tokens, and reasoning
 * inside completion_tokens: input = prompt - cached - written; output = completion (reasoning a subset).
 */
export function fromOpenAIUsage(u: OpenAIUsageLike): UsageCounts {
  const cached = tokenCount(u.prompt_tokens_details?.cached_tokens ?? u.input_tokens_details?.cached_tokens);
  const cacheWrite = tokenCount(u.prompt_tokens_details?.cache_write_tokens);
  return {
    inputTokens: Math.max(0, tokenCount(u.prompt_tokens ?? u.input_tokens) - cached - cacheWrite),
    cachedInputTokens: cached,
    // OpenAI caching has no TTL tiers; its writes are the short-lived kind.
    cacheWrite5mTokens: cacheWrite,
    cacheWrite1hTokens: 0,
    outputTokens: tokenCount(u.completion_tokens ?? u.output_tokens),
    reasoningTokens: tokenCount(u.completion_tokens_details?.reasoning_tokens ?? u.output_tokens_details?.reasoning_tokens),
    estimated: false,
  };
}

const isRecord = (v: unknown): v is Readonly<Record<string, unknown>> => typeof v === "object" && v !== null && !Array.isArray(v);
const numberOrNull = (v: unknown): number | null => (typeof v === "number" ? v : null);
const field = (o: unknown, key: string): unknown => (isRecord(o) ? o[key] : undefined);

/**
 * fromOpenAIUsage over parsed JSON whose shape nobody checked (a provider's batch output line, a stored
 * answer): a field that is not a number counts as absent, anything that is not an object as empty usage.
 */
export function fromOpenAIUsageJson(u: unknown): UsageCounts {
  const num = (...path: string[]): number | null => numberOrNull(path.reduce<unknown>(field, u));
  return fromOpenAIUsage({
    prompt_tokens: num("prompt_tokens"),
    completion_tokens: num("completion_tokens"),
    prompt_tokens_details: { cached_tokens: num("prompt_tokens_details", "cached_tokens"), cache_write_tokens: num("prompt_tokens_details", "cache_write_tokens") },
    completion_tokens_details: { reasoning_tokens: num("completion_tokens_details", "reasoning_tokens") },
    input_tokens: num("input_tokens"),
    output_tokens: num("output_tokens"),
    input_tokens_details: { cached_tokens: num("input_tokens_details", "cached_tokens") },
    output_tokens_details: { reasoning_tokens: num("output_tokens_details", "reasoning_tokens") },
  });
}

/** Disjoint counts → OpenAI usage object (prompt_tokens counts every input kind, as OpenAI does). */
export function toOpenAIUsage(u: UsageCounts): OpenAI.CompletionUsage {
  const cacheWrite = u.cacheWrite5mTokens + u.cacheWrite1hTokens;
  const prompt = u.inputTokens + u.cachedInputTokens + cacheWrite;
  const out: OpenAI.CompletionUsage = {
    prompt_tokens: prompt,
    completion_tokens: u.outputTokens,
    total_tokens: prompt + u.outputTokens,
    prompt_tokens_details: { cached_tokens: u.cachedInputTokens },
  };
  if (cacheWrite > 0 && out.prompt_tokens_details) out.prompt_tokens_details.cache_write_tokens = cacheWrite;
  if (u.reasoningTokens > 0) out.completion_tokens_details = { reasoning_tokens: u.reasoningTokens };
  return out;
}

/** OpenAI usage object → proto Usage (e.g. a cached answer's usage for RequestCompleted.answer_usage). */
export function openAIUsageToProto(u: OpenAIUsageLike): Usage {
  return toProtoUsage(fromOpenAIUsage(u));
}
