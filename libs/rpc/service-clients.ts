// The gateway's RPC services by name, and a client per service: how one service reaches another.
// The composition roots fill this map with in-process clients (embedded) or gRPC clients (mesh).
import type { DescService } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { CacheService } from "#libs/gen/llmgw/cache/v1/cache_pb.ts";
import { ClassifierService } from "#libs/gen/llmgw/classifier/v1/classifier_pb.ts";
import { EvaluatorService } from "#libs/gen/llmgw/evaluator/v1/evaluator_pb.ts";
import { ExecutorService } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { LedgerService } from "#libs/gen/llmgw/ledger/v1/ledger_pb.ts";
import { RouterService } from "#libs/gen/llmgw/router/v1/router_pb.ts";

export const SERVICE_DESCRIPTORS = {
  executor: ExecutorService,
  classifier: ClassifierService,
  cache: CacheService,
  router: RouterService,
  ledger: LedgerService,
  evaluator: EvaluatorService,
} as const;

export type ServiceName = keyof typeof SERVICE_DESCRIPTORS;
export type ServiceDescriptor<N extends ServiceName> = (typeof SERVICE_DESCRIPTORS)[N];
export type ServiceClients = { readonly [N in ServiceName]: Client<ServiceDescriptor<N>> };
export const SERVICE_NAMES = Object.keys(SERVICE_DESCRIPTORS) as ServiceName[];

/** A client per service, made on first use by `make` (so peers can be handed out before they exist). */
export function lazyClients(make: (name: ServiceName, service: DescService) => Client<DescService>): ServiceClients {
  const made = new Map<ServiceName, Client<DescService>>();
  const out = {} as Record<ServiceName, Client<DescService>>;
  for (const name of SERVICE_NAMES) {
    Object.defineProperty(out, name, {
      enumerable: true,
      get: () => {
        let c = made.get(name);
        if (!c) made.set(name, (c = make(name, SERVICE_DESCRIPTORS[name])));
        return c;
      },
    });
  }
  return out as unknown as ServiceClients;
}
