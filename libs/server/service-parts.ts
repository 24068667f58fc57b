// The one shape every service's build.ts takes and returns, so the composition table, the embedded
// root, the mesh roots and tests treat services alike. A service never learns which mode it runs in:
// it gets its backends and its peers' clients, and codes against their interfaces.
import type { DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { Registry } from "prom-client";
import type { Config } from "#libs/config/schema.ts";
import type { Settings } from "#libs/config/settings.ts";
import type { Logger } from "#libs/log/logger.ts";
import type { PriceTable } from "#libs/pricing/index.ts";

/**
 * What a service is built from. `B` is the backends it uses and `C` the peers it calls, each declared
 * by the service itself as a structural subset of what the composition root passes.
 */
export interface BuildContext<B = object, C = object> {
  config: Config;
  settings: Settings;
  logger: Logger;
  registry: Registry;
  /** The one price table of the process. */
  prices: PriceTable;
  backends: B;
  clients: C;
}

export interface BuiltService<S extends DescService> {
  service: S;
  impl: ServiceImpl<S>;
  /** Own dependencies reachable (for /readyz and grpc.health). */
  ready: () => Promise<boolean>;
  /** Closes consumers and timers; backends are closed by whoever created them. */
  close: () => Promise<void>;
}
