import { describe, expect, it } from "vitest";
import { listedItems, page, pageQuery } from "./input-items.ts";
import { validateResponsesRequest } from "./request-schema.ts";

const RID = "resp_0123456789abcdef0123456789abcdef";

function items(input: unknown) {
  const v = validateResponsesRequest({ model: "auto", input });
  if (!v.ok) throw v.error;
  if (typeof v.value.input === "string") throw new Error("expected items");
  return v.value.input;
}

describe("input items listing", () => {
  const listed = listedItems(
    RID,
    items([
      { role: "user", content: "Hi" },
      { type: "message", role: "assistant", content: [{ type: "output_text", text: "Hello" }], id: "msg_own" },
      { type: "reasoning", summary: [] },
      { type: "function_call", call_id: "c1", name: "f", arguments: "{}" },
      { type: "function_call_output", call_id: "c1", output: "ok" },
      { role: "user", content: [{ type: "input_image", image_url: "https://x/i.png" }] },
    ]),
  );

  it("every item gets an id and the listed shape; reasoning is left out", () => {
    expect(listed).toEqual([
      { id: "msg_0123456789abcdef0123456789abcdef_in0", type: "message", role: "user", status: "completed", content: [{ type: "input_text", text: "Hi" }] },
      { id: "msg_own", type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text: "Hello", annotations: [], logprobs: [] }] },
      { id: "fc_0123456789abcdef0123456789abcdef_in3", type: "function_call", status: "completed", call_id: "c1", name: "f", arguments: "{}" },
      { id: "fco_0123456789abcdef0123456789abcdef_in4", type: "function_call_output", status: "completed", call_id: "c1", output: "ok" },
      { id: "msg_0123456789abcdef0123456789abcdef_in5", type: "message", role: "user", status: "completed", content: [{ type: "input_image", image_url: "https://x/i.png", detail: "auto" }] },
    ]);
  });

  it("pages newest first by default, asc on request, after an id", () => {
    const desc = page(listed, pageQuery({ limit: "2" }));
    expect(desc.data.map((i) => i.id)).toEqual(["msg_0123456789abcdef0123456789abcdef_in5", "fco_0123456789abcdef0123456789abcdef_in4"]);
    expect(desc).toMatchObject({ object: "list", first_id: "msg_0123456789abcdef0123456789abcdef_in5", last_id: "fco_0123456789abcdef0123456789abcdef_in4", has_more: true });
    const next = page(listed, pageQuery({ limit: "2", after: desc.last_id ?? "" }));
    expect(next.data.map((i) => i.id)).toEqual(["fc_0123456789abcdef0123456789abcdef_in3", "msg_own"]);
    const asc = page(listed, pageQuery({ order: "asc" }));
    expect(asc.data.map((i) => i.id)[0]).toBe("msg_0123456789abcdef0123456789abcdef_in0");
    expect(asc.has_more).toBe(false);
  });

  it.each([
    [{ order: "up" }, "order"],
    [{ limit: "0" }, "limit"],
    [{ limit: "101" }, "limit"],
    [{ limit: "ten" }, "limit"],
  ])("query %o is a 400 naming %s", (q, param) => {
    expect(() => pageQuery(q)).toThrow(expect.objectContaining({ status: 400, param }));
  });

  it("an unknown 'after' is a 400", () => {
    expect(() => page(listed, pageQuery({ after: "msg_nope" }))).toThrow(expect.objectContaining({ status: 400, param: "after" }));
  });
});
