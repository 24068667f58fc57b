import { describe, expect, it } from "vitest";
import { indexOfProviderCustomId, providerCustomId, providerCustomIdPrefix, subBatchTag } from "./batch-custom-id.ts";

const ANTHROPIC_ID = /^[a-zA-Z0-9_-]{1,64}$/;

describe("provider custom ids", () => {
  const key = "batch_0123456789abcdef0123456789abcdef:claude-3-5-haiku-latest";

  it("carry the sub-batch tag, fit Anthropic's rule and parse back to the line index", () => {
    const id = providerCustomId(key, 999_999_999);
    expect(id).toMatch(ANTHROPIC_ID);
    expect(id.startsWith(providerCustomIdPrefix(key))).toBe(true);
    expect(indexOfProviderCustomId(id, key)).toBe(999_999_999);
    expect(indexOfProviderCustomId(providerCustomId(key, 0), key)).toBe(0);
  });

  it("differ between sub-batches: another key's id is not this sub-batch's line", () => {
    const other = "batch_0123456789abcdef0123456789abcdef:gpt-4o-mini";
    expect(subBatchTag(key)).not.toBe(subBatchTag(other));
    expect(subBatchTag(key)).toBe(subBatchTag(key));
    expect(indexOfProviderCustomId(providerCustomId(other, 3), key)).toBeUndefined();
  });

  it("still read plain l<index> ids of batches submitted before the tag, and nothing else", () => {
    expect(indexOfProviderCustomId("l42", key)).toBe(42);
    for (const bad of ["42", "l", "l-1", "x-l1", `${subBatchTag(key)}l1`, "l1234567890", `${subBatchTag(key)}-l1x`]) expect(indexOfProviderCustomId(bad, key)).toBeUndefined();
  });
});
