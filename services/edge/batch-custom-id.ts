// The custom_id each line carries at the provider: `<tag>-l<index>`, the tag a short hash of the sub-batch
// key. Anthropic Message Batches carry no metadata, so the tag is how a batch submitted just before a crash
// is recognised as ours (FindBatch's custom_id_prefix). Safe for every provider: ^[a-zA-Z0-9_-]{1,64}$.
import { createHash } from "node:crypto";

/** 16 hex digits (64 bits) of SHA-256: collisions between sub-batch keys are not a practical concern. */
export function subBatchTag(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex").slice(0, 16);
}

/** What every custom_id of the sub-batch's provider batch starts with. */
export function providerCustomIdPrefix(key: string): string {
  return `${subBatchTag(key)}-`;
}

export function providerCustomId(key: string, index: number): string {
  return `${providerCustomIdPrefix(key)}l${index}`;
}

/**
 * The line index a provider custom_id names, or undefined when it is not one of this sub-batch's. Plain
 * `l<index>` ids (before the tag existed) are still read, for provider batches already in flight.
 */
export function indexOfProviderCustomId(id: string, key: string): number | undefined {
  const m = /^(?:([0-9a-f]{16})-)?l(\d{1,9})$/.exec(id);
  if (m?.[2] === undefined) return undefined;
  if (m[1] !== undefined && m[1] !== subBatchTag(key)) return undefined;
  return Number(m[2]);
}
