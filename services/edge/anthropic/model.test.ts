import { describe, expect, it } from "vitest";
import { loadConfig } from "#libs/config/load.ts";
import { loadPriceTable } from "#libs/pricing/index.ts";
import { tablePricing } from "../pricing.ts";
import { isKnownModel, resolveModel } from "./model.ts";

const config = loadConfig({ env: {} });
const deps = { config, pricing: tablePricing(loadPriceTable()) };

describe("resolveModel", () => {
  it("keeps aliases and configured models, maps a dated snapshot to its configured model, leaves the unknown alone", () => {
    expect(resolveModel(deps, "auto")).toBe("auto");
    expect(resolveModel(deps, "claude-sonnet-4-5")).toBe("claude-sonnet-4-5");
    expect(resolveModel(deps, "claude-sonnet-4-5-20250929")).toBe("claude-sonnet-4-5");
    expect(resolveModel(deps, "claude-3-5-haiku-20241022")).toBe("claude-3-5-haiku-latest");
    expect(resolveModel(deps, "claude-nope")).toBe("claude-nope");
    // Priced but not configured: not served.
    expect(isKnownModel(deps, resolveModel(deps, "claude-opus-4-1-20250805"))).toBe(false);
  });
});
