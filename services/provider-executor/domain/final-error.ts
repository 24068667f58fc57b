// The error a request fails with when no candidate produced an answer and none failed on its own
// (all were skipped): the most actionable skip reason wins. Pure.
import { GatewayError, errors } from "#libs/errors/openai-error.ts";
import type { AttemptRecord } from "./types.ts";

export function errorFromSkips(attempts: readonly AttemptRecord[], promptTokens: number | undefined): GatewayError {
  const has = (s: AttemptRecord["status"]) => attempts.some((a) => a.status === s);
  if (has("skipped_deadline")) return errors.timeout("The request deadline passed before a provider answered.");
  if (has("skipped_breaker_open") || has("skipped_concurrency")) {
    return errors.unavailable("Every candidate model is temporarily unavailable (circuit open or at capacity).", 1);
  }
  if (has("skipped_no_credentials")) {
    return new GatewayError({ status: 502, type: "server_error", code: "upstream_auth_failed", message: "No provider key is configured for any candidate model." });
  }
  const unknown = attempts.find((a) => a.status === "skipped_unknown_model");
  if (unknown) return errors.modelNotFound(unknown.model);
  return errors.badRequest("No candidate models were given.", "model");
}
