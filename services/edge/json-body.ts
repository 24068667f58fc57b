// The edge's JSON body parser, bounded: nesting is measured on the raw text before JSON.parse (a
// recursive walk of 5,000-deep JSON overflowed the stack further on), prototype poisoning is refused
// (secure-json-parse, Fastify's own parser), and every string and key is checked for what PostgreSQL
// and providers cannot take (NUL, lone surrogates) and for length. Each failure is a 400 naming the field.
import sjson from "secure-json-parse";
import type { Limits } from "#libs/config/limits.ts";
import { errors, type GatewayError } from "#libs/errors/openai-error.ts";

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const COLON = 0x3a;

/**
 * Deepest nesting of objects and arrays in JSON text, and how many object keys it has (a colon outside
 * a string), stopping once either is past its limit (strings skipped).
 */
export function jsonShape(text: string, depthLimit: number, keyLimit = Number.POSITIVE_INFINITY): { depth: number; keys: number } {
  let depth = 0;
  let max = 0;
  let keys = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === BACKSLASH) i++;
        else if (d === QUOTE) break;
      }
    } else if (c === COLON) {
      if (++keys > keyLimit) break;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) {
        max = depth;
        if (max > depthLimit) break;
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return { depth: max, keys };
}

/** Deepest nesting of objects and arrays in JSON text, stopping once past `limit` (strings skipped). */
export function jsonDepth(text: string, limit: number): number {
  return jsonShape(text, limit).depth;
}

export type JsonLimits = Pick<Limits, "json_depth" | "json_keys" | "string_chars">;

/** A 400 when the raw text nests too deep or holds too many keys: checked before JSON.parse builds it. */
function checkShape(text: string, limits: JsonLimits): void {
  const shape = jsonShape(text, limits.json_depth, limits.json_keys);
  if (shape.depth > limits.json_depth) {
    throw errors.badRequest(`JSON nesting exceeds the limit of ${limits.json_depth} levels (edge.limits.json_depth).`, null, "json_too_deep");
  }
  if (shape.keys > limits.json_keys) {
    throw errors.badRequest(`The JSON body has more than ${limits.json_keys} object keys (edge.limits.json_keys).`, null, "json_too_many_keys");
  }
}

/** Parses a JSON request body within the limits, or throws a 400 in the OpenAI shape. */
export function parseJsonBody(text: string, limits: JsonLimits, checkDepth = true): unknown {
  if (checkDepth) checkShape(text, limits);
  let value: unknown;
  try {
    value = sjson.parse(text, undefined, { protoAction: "error", constructorAction: "error" });
  } catch (e) {
    const poisoned = e instanceof SyntaxError && /prototype/i.test(e.message);
    throw errors.badRequest(poisoned ? "The JSON body may not set '__proto__' or 'constructor.prototype'." : "We could not parse the JSON body of your request.", null, "invalid_json");
  }
  const bad = checkStrings(value, limits.string_chars, "");
  if (bad) throw bad;
  return value;
}

/** Bodies at least this large are parsed in steps with a turn of the event loop between them. */
export const YIELD_BYTES = 256 * 1024;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** parseJsonBody for a raw body below YIELD_BYTES, at once (no promise per request); empty is undefined. */
export function parseSmallJsonBody(body: Buffer | string, limits: JsonLimits): unknown {
  const text = typeof body === "string" ? body : body.toString("utf8");
  return text.length === 0 ? undefined : parseJsonBody(text, limits);
}

/**
 * parseJsonBody for a raw body, giving the event loop a turn between decoding, the depth scan and the
 * parse when the body is large: each is ~5-15 ms for 2 MB on one core, run back to back they held the
 * loop ~30 ms (several times that on a loaded machine) and /healthz waited behind them (issue #11).
 */
export async function parseJsonBodyYielding(body: Buffer | string, limits: JsonLimits): Promise<unknown> {
  if (body.length < YIELD_BYTES) return parseSmallJsonBody(body, limits);
  const text = typeof body === "string" ? body : body.toString("utf8");
  await nextTurn();
  checkShape(text, limits);
  await nextTurn();
  return parseJsonBody(text, limits, false);
}

/**
 * The first string or key (depth-first) that is too long, holds a NUL or is not well-formed UTF-16, as
 * a 400 naming its field; recursion is safe because the depth was bounded before parsing.
 */
export function checkStrings(value: unknown, maxChars: number, path: string): GatewayError | undefined {
  if (typeof value === "string") return checkString(value, maxChars, path);
  if (typeof value !== "object" || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (!needsVisit(v, maxChars)) continue;
      const bad = checkStrings(v, maxChars, `${path}[${i}]`);
      if (bad) return bad;
    }
    return undefined;
  }
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!isCleanText(key)) return errors.badRequest(`A key in '${path || "the body"}' contains a NUL character or invalid Unicode (a lone surrogate).`, path || null, "invalid_characters");
    const v = obj[key];
    if (!needsVisit(v, maxChars)) continue;
    const bad = checkStrings(v, maxChars, path ? `${path}.${key}` : key);
    if (bad) return bad;
  }
  return undefined;
}

/**
 * A nested object or array, or a string that fails checkString: what checkStrings must visit with
 * its path. Clean strings and other values are passed over without building a path for them.
 */
function needsVisit(v: unknown, maxChars: number): boolean {
  if (typeof v === "string") return v.length > maxChars || !isCleanText(v);
  return typeof v === "object" && v !== null;
}

/** A 400 naming `field` when the text is too long, holds a NUL or a lone surrogate. */
export function checkString(text: string, maxChars: number, field: string): GatewayError | undefined {
  if (text.length > maxChars) return errors.badRequest(`'${field}' is ${text.length} characters long, over the limit of ${maxChars} (edge.limits.string_chars).`, field, "string_too_long");
  if (!isCleanText(text)) return errors.badRequest(`'${field}' contains a NUL character or invalid Unicode (a lone surrogate).`, field, "invalid_characters");
  return undefined;
}

/** No NUL (PostgreSQL text cannot hold one) and well-formed UTF-16 (a lone surrogate has no UTF-8). */
export function isCleanText(text: string): boolean {
  return !text.includes("\u0000") && text.isWellFormed();
}

declare global {
  /** String.prototype.isWellFormed: in Node 20 (ES2024), past the project's TypeScript lib (ES2023). */
  interface String {
    isWellFormed(): boolean;
  }
}

/**
 * What JSON.parse makes. Anything else (a Buffer from another content type's parser, a typed array)
 * would reach zod, which walks it key by key: a 1 MB Buffer became ~1M keys and ~190 MB of heap.
 */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
