import { createHash } from "node:crypto";
import type { CacheRequest, ChatMessageLike, Embedder } from "./types.ts";

/** Bumped whenever the key layout changes, so old entries simply stop matching. */
const KEY_VERSION = "k1";

/** Params that do not change what a correct answer is; excluded from the semantic partition (not from the exact key). */
const SAMPLING_ONLY_PARAMS = new Set(["temperature", "top_p", "seed", "user", "stream", "stream_options", "metadata", "store"]);
/** Transport-only params: never part of any key (a streamed and a non-streamed request share answers). */
const TRANSPORT_PARAMS = new Set(["stream", "stream_options", "user", "metadata", "store"]);

export function normalizeText(text: string): string {
  return text.normalize("NFKC").replace(/\s+/g, " ").trim();
}

/** JSON with sorted object keys, so semantically equal params hash equally. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function pickParams(params: Record<string, unknown>, drop: Set<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) if (!drop.has(k)) out[k] = v;
  return out;
}

function normMessages(messages: ChatMessageLike[]): { role: string; content: string }[] {
  return messages.map((m) => ({ role: m.role, content: normalizeText(m.content) }));
}

function embedderId(embedder: Pick<Embedder, "name" | "version">): string {
  return `${embedder.name}@${embedder.version}`;
}

/** Key of the exact layer: the whole normalised request. */
export function exactKey(req: CacheRequest, embedder: Pick<Embedder, "name" | "version">): string {
  return sha256(
    canonicalJson({
      v: KEY_VERSION,
      tenant: req.tenant,
      scope: req.scope,
      embedder: embedderId(embedder),
      messages: normMessages(req.messages),
      params: pickParams(req.params, TRANSPORT_PARAMS),
    }),
  );
}

export interface SemanticPartition {
  tenant: string;
  /** Invalidation handle (scope by default). */
  namespace: string;
  /** Everything but the last user turn: scope, system prompt, earlier turns, answer-shaping params, embedder. */
  key: string;
}

/** The last user message is the only text compared by similarity; everything else must match exactly. */
export function semanticPartition(req: CacheRequest, embedder: Pick<Embedder, "name" | "version">): SemanticPartition {
  const msgs = normMessages(req.messages);
  const system = msgs.filter((m) => m.role === "system" || m.role === "developer");
  const convo = msgs.filter((m) => m.role !== "system" && m.role !== "developer");
  const earlier = convo.slice(0, -1);
  return {
    tenant: req.tenant,
    namespace: namespaceOf(req),
    key: sha256(
      canonicalJson({
        v: KEY_VERSION,
        scope: req.scope,
        namespace: namespaceOf(req),
        embedder: embedderId(embedder),
        systemHash: sha256(canonicalJson(system)),
        earlier,
        params: pickParams(req.params, SAMPLING_ONLY_PARAMS),
      }),
    ).slice(0, 32),
  };
}

export function namespaceOf(req: CacheRequest): string {
  return req.namespace ?? req.scope;
}

export function lastUserText(req: CacheRequest): string | undefined {
  const last = req.messages[req.messages.length - 1];
  return last && last.role === "user" ? normalizeText(last.content) : undefined;
}
