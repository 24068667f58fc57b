export { PriceTable, loadPriceTable, DEFAULT_PRICES_PATH, priceFileSchema, picoRates, type ModelPrice, type PriceFile, type PicoRates } from "./price-table.ts";
export { computeCost, costWithPrice, costPico, worstCaseCost, worstCasePico, MONEY_SCALE, type CostOptions, type CostResult } from "./cost.ts";
export { picoToUsd, usdToPico, addUsd, subUsd, maxUsd } from "./money.ts";
export { unpricedCounter, recordUnpriced, type WarnLogger } from "./metrics.ts";
export { estimateUsage, countTokens } from "./usage.ts";
export { fromOpenAIUsage, fromOpenAIUsageJson, toOpenAIUsage, openAIUsageToProto, type OpenAIUsageLike } from "./usage-openai.ts";
export { fromAnthropicUsage, type AnthropicUsageLike } from "./usage-anthropic.ts";
export { usage, ZERO_USAGE, fromProtoUsage, toProtoUsage, addUsage, tokenCount, type UsageCounts } from "./usage-types.ts";
