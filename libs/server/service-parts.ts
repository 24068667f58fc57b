// The one shape every service's build.ts returns, so main.ts, the embedded composition and tests
// treat services alike.
import type { DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { Registry } from "prom-client";
import type { Config } from "#libs/config/schema.ts";
import type { Logger } from "#libs/log/logger.ts";

export type RunMode = "mesh" | "embedded";

export interface BuildContext {
  config: Config;
  logger: Logger;
  registry: Registry;
  mode: RunMode;
  env: Record<string, string | undefined>;
}

export interface BuiltService<S extends DescService> {
  service: S;
  impl: ServiceImpl<S>;
  /** Own dependencies reachable (for /readyz and grpc.health). */
  ready: () => Promise<boolean>;
  /** Closes pools, consumers and timers. */
  close: () => Promise<void>;
}
