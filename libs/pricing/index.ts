export { PriceTable, loadPriceTable, DEFAULT_PRICES_PATH, priceFileSchema, type ModelPrice, type PriceFile } from "./price-table.ts";
export { computeCost, costWithPrice, worstCaseCost, MONEY_SCALE, type CostOptions, type CostResult } from "./cost.ts";
export { unpricedCounter, recordUnpriced, type WarnLogger } from "./metrics.ts";
export { estimateUsage, countTokens } from "./usage.ts";
export { fromOpenAIUsage, fromOpenAIUsageJson, toOpenAIUsage, openAIUsageToProto, type OpenAIUsageLike } from "./usage-openai.ts";
export { fromAnthropicUsage, type AnthropicUsageLike } from "./usage-anthropic.ts";
export { usage, ZERO_USAGE, fromProtoUsage, toProtoUsage, addUsage, tokenCount, type UsageCounts } from "./usage-types.ts";
