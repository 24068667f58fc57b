import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { readFileSync } from "node:fs";
import { ConfigError, loadConfig, parseConfig } from "./load.ts";

const base = (): Record<string, unknown> => parse(readFileSync("deploy/config/llmgw.yaml", "utf8")) as Record<string, unknown>;

describe("config", () => {
  it("loads the shipped file", () => {
    const cfg = loadConfig({ env: {} });
    expect(cfg.routing.tiers.LOW?.[0]).toBe("small-8k");
    expect(cfg.edge.port).toBe(8080);
  });

  it("answers only configured model and provider names, never an inherited key", () => {
    const cfg = loadConfig({ env: {} });
    for (const name of ["constructor", "toString", "__proto__", "valueOf", "hasOwnProperty"]) {
      expect(cfg.models[name], name).toBeUndefined();
      expect(cfg.providers[name], name).toBeUndefined();
    }
    expect(cfg.models["gpt-4o-mini"]?.provider).toBe("openai");
  });

  it("applies the env override table", () => {
    const cfg = loadConfig({ env: { PORT: "9000", LLMGW_ROUTER_ADDR: "router:1" } });
    expect(cfg.edge.port).toBe(9000);
    expect(cfg.services.router.address).toBe("router:1");
  });

  it("names the bad key", () => {
    const raw = base();
    (raw.models as Record<string, Record<string, unknown>>)["gpt-4o"]!.context_window = -1;
    expect(() => parseConfig(raw)).toThrow(/models\.gpt-4o\.context_window/);
  });

  it("rejects a tier that names an unknown model", () => {
    const raw = base();
    ((raw.routing as Record<string, unknown>).tiers as Record<string, string[]>).LOW = ["nope"];
    expect(() => parseConfig(raw)).toThrow(/routing\.tiers\.LOW\.0: unknown model 'nope'/);
  });

  it("rejects unknown keys", () => {
    const raw = base();
    (raw.edge as Record<string, unknown>).prot = 1;
    expect(() => parseConfig(raw)).toThrow(ConfigError);
  });

  it("rejects a non-numeric env override", () => {
    expect(() => loadConfig({ env: { PORT: "abc" } })).toThrow(/PORT=abc/);
  });
});
