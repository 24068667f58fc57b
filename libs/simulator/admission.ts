// Checks every inference request passes before an answer is generated: stats, fault rules, markers,
// the seeded error rate, [sim:timeout], and the context window.
import { faultError, type Protocol, type SimError } from "./errors.ts";
import type { SimMarkers } from "./markers.ts";
import { errorOutcome, type Outcome } from "./outcome.ts";
import type { SimState } from "./state.ts";
import type { SimModelSpec } from "./types.ts";

export function admit(
  state: SimState,
  protocol: Protocol,
  model: SimModelSpec,
  markers: SimMarkers,
  promptTokens: number,
  maxTokens: number | undefined,
): Outcome | undefined {
  state.record(model.id);
  const fault = state.faults.take(model.id);
  if (fault !== undefined) return errorOutcome(protocol, faultError(fault.status, fault.retryAfterSec), markers.slowMs);
  if (markers.status !== undefined) return errorOutcome(protocol, faultError(markers.status, undefined), markers.slowMs);
  if (markers.timeout) return { kind: "hang" };
  const over = contextError(protocol, model, promptTokens, maxTokens);
  if (over !== undefined) return errorOutcome(protocol, over);
  return undefined;
}

function contextError(protocol: Protocol, model: SimModelSpec, promptTokens: number, maxTokens: number | undefined): SimError | undefined {
  const window = model.contextWindow;
  if (protocol === "anthropic") {
    if (promptTokens > window) return { status: 400, message: `prompt is too long: ${promptTokens} tokens > ${window} maximum` };
    return undefined;
  }
  const completion = maxTokens ?? 0;
  if (promptTokens + completion <= window) return undefined;
  const detail =
    completion > 0
      ? `However, you requested ${promptTokens + completion} tokens (${promptTokens} in the messages, ${completion} in the completion).`
      : `However, your messages resulted in ${promptTokens} tokens.`;
  return {
    status: 400,
    message: `This model's maximum context length is ${window} tokens. ${detail} Please reduce the length of the messages.`,
    code: "context_length_exceeded",
    param: "messages",
  };
}
