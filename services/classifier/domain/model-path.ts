import { pathToFileURL } from "node:url";
import { projectPath } from "#libs/config/project-root.ts";

// Location of the shipped learned-router artifact (trained on the three dev files; see train:router).
export const DEFAULT_ROUTER_VERSION = "v1";
export const DEFAULT_ROUTER_MODEL_URL: URL = pathToFileURL(projectPath("services", "classifier", "models", `router-${DEFAULT_ROUTER_VERSION}.json`));
