// @llmgw/sdk: remote mode here; in-process mode in ./in-process.ts (it loads the gateway itself).
export { ChatStream, GatewayStream, LlmgwClient, ResponseStream, remote, type CallOptions, type ClientOptions, type WithGateway } from "./client.ts";
export { infoFromHeaders, type CacheOutcome, type GatewayInfo, type GatewayTrailer } from "./gateway-info.ts";
export { injectFetch, type InjectTarget } from "./inject-fetch.ts";
export * from "./errors.ts";
export type * from "./admin-types.ts";
