// Location of the shipped learned-router artifact (trained on the three dev files; see train:router).
export const DEFAULT_ROUTER_VERSION = "v1";
export const DEFAULT_ROUTER_MODEL_URL: URL = new URL(`../models/router-${DEFAULT_ROUTER_VERSION}.json`, import.meta.url);
