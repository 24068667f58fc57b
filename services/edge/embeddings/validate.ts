// The OpenAI embeddings body, checked at the edge: every rejection names its param, as OpenAI does.
// Unknown fields are refused (OpenAI answers "Unrecognized request argument"), so a typo is not
// silently ignored and then cached under the wrong key.
import { z } from "zod";
import { errors, type GatewayError } from "#libs/errors/openai-error.ts";
import { isJsonObject } from "../json-body.ts";

/** OpenAI's limit on inputs per request. */
export const MAX_INPUTS = 2048;

const token = z.number().int().nonnegative();
const tokens = z.array(token).min(1, "must not be empty");

const input = z.union([
  z.string().min(1, "must not be an empty string"),
  z.array(z.string().min(1, "must not be an empty string")).min(1, "must not be empty").max(MAX_INPUTS),
  tokens.max(100_000),
  z.array(tokens).min(1, "must not be empty").max(MAX_INPUTS),
]);

export const embeddingsRequestSchema = z
  .object({
    model: z.string().min(1),
    input,
    dimensions: z.number().int().positive().max(65_536).optional(),
    encoding_format: z.enum(["float", "base64"]).optional(),
    user: z.string().max(256).optional(),
  })
  .strict();

export type EmbeddingsRequest = z.infer<typeof embeddingsRequestSchema>;
export type EmbeddingsInput = EmbeddingsRequest["input"];

export function validateEmbeddingsRequest(body: unknown): { ok: true; value: EmbeddingsRequest } | { ok: false; error: GatewayError } {
  if (!isJsonObject(body)) return { ok: false, error: errors.badRequest("Request body must be a JSON object.") };
  const r = embeddingsRequestSchema.safeParse(body);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0];
  if (!issue) return { ok: false, error: errors.badRequest("Invalid request.") };
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    return { ok: false, error: errors.badRequest(`Unrecognized request argument supplied: ${key}`, key, "unknown_parameter") };
  }
  // A union names no branch: say what input may be.
  if (issue.code === "invalid_union" && issue.path[0] === "input") {
    return { ok: false, error: errors.badRequest("'input' must be a non-empty string, an array of non-empty strings, an array of token ids, or an array of token id arrays (at most 2048 items).", "input", "invalid_value") };
  }
  const param = formatPath(issue.path);
  const missing = issue.code === "invalid_type" && issue.received === "undefined";
  const what = missing ? "is required" : issue.message;
  return { ok: false, error: errors.badRequest(`Invalid request: '${param}' ${what}.`, param, missing ? "missing_required_parameter" : "invalid_value") };
}

/** The texts (or token arrays) one by one, as the response's `data[i]` answers them. */
export function inputItems(input: EmbeddingsInput): (string | number[])[] {
  if (typeof input === "string") return [input];
  if (input.length > 0 && typeof input[0] === "number") return [input as number[]];
  return input as string[] | number[][];
}

/** An upper bound on the input's tokens, for the budget reservation: a token is at least one UTF-8 byte. */
export function tokenBound(input: EmbeddingsInput): number {
  let n = 0;
  for (const item of inputItems(input)) n += typeof item === "string" ? Buffer.byteLength(item, "utf8") : item.length;
  return n;
}

function formatPath(path: (string | number)[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${p}` : p;
  return out;
}
