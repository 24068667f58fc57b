import { ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { upstreamJsonl } from "./batches.ts";

describe("upstreamJsonl", () => {
  it("sets every line's body.model to the upstream name and drops blank lines", () => {
    const input = `${JSON.stringify({ custom_id: "a", body: { model: "gw-name", messages: [] } })}\n\n${JSON.stringify({ custom_id: "b", body: { model: "gw-name" } })}`;
    const out = upstreamJsonl(input, "upstream-name").trim().split("\n").map((l) => JSON.parse(l) as { custom_id: string; body: { model: string } });
    expect(out.map((l) => [l.custom_id, l.body.model])).toEqual([["a", "upstream-name"], ["b", "upstream-name"]]);
  });

  it("rejects a line that is not JSON as InvalidArgument", () => {
    expect(() => upstreamJsonl("{nope", "m")).toThrow(ConnectError);
  });
});
