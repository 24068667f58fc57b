export { PriceTable, loadPriceTable, DEFAULT_PRICES_PATH, priceFileSchema, type ModelPrice, type PriceFile } from "./price-table.ts";
export { computeCost, costWithPrice, worstCaseCost, MONEY_SCALE, type CostOptions, type CostResult } from "./cost.ts";
export { unpricedCounter, recordUnpriced, type WarnLogger } from "./metrics.ts";
export { fromOpenAIUsage, fromAnthropicUsage, estimateUsage, countTokens, type OpenAIUsageLike, type AnthropicUsageLike } from "./usage.ts";
export { usage, ZERO_USAGE, fromProtoUsage, toProtoUsage, addUsage, type UsageCounts } from "./usage-types.ts";
