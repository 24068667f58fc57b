// What a request needs from a model, and whether a deployment can take it. Pure.
import type { Capability } from "#libs/config/schema.ts";
import type { ChatRequest } from "../providers/types.ts";
import type { Deployment } from "./deployments.ts";

export function requiredCapabilities(body: ChatRequest, stream: boolean): Capability[] {
  const need: Capability[] = [];
  const usesTools =
    (body.tools !== undefined && body.tools.length > 0) ||
    body.messages.some((m) => m.role === "tool" || (m.role === "assistant" && (m.tool_calls?.length ?? 0) > 0));
  if (usesTools) need.push("tools");
  const rf = body.response_format?.type;
  if (rf === "json_object" || rf === "json_schema") need.push("json_mode");
  const hasImage = body.messages.some(
    (m) => m.role === "user" && Array.isArray(m.content) && m.content.some((p) => p.type === "image_url"),
  );
  if (hasImage) need.push("vision");
  if (stream) need.push("streaming");
  return need;
}

export function missingCapabilities(dep: Deployment, need: readonly Capability[]): Capability[] {
  return need.filter((c) => !dep.capabilities.has(c));
}

/** Output tokens the request reserves: what it asks for, else nothing (providers clamp to what fits). */
export function requestedOutputTokens(body: ChatRequest): number {
  return body.max_completion_tokens ?? body.max_tokens ?? 0;
}

export function fitsContext(dep: Deployment, promptTokens: number, outputTokens: number): boolean {
  return promptTokens + outputTokens <= dep.contextWindow;
}
