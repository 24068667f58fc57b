export type { EventBus, BusMessage, BusSubscription, BatchHandler, SubscribeOptions } from "./event-bus.ts";
export { DEFAULT_MAX_BATCH, DEFAULT_MAX_WAIT_MS } from "./event-bus.ts";
export { DEFAULT_BUS_NAMES, subjects, subjectMatches, type BusNames } from "./subjects.ts";
export { MemoryEventBus, type MemoryBusOptions } from "./memory-bus.ts";
export { NatsEventBus } from "./nats-bus.ts";
export { provisionStream, provisionConsumer, type StreamOptions, type ConsumerOptions } from "./provision.ts";
