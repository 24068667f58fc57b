// Mesh clients for every service the edge calls, from the config's addresses.
import type { Config } from "#libs/config/schema.ts";
import { CacheService } from "#libs/gen/llmgw/cache/v1/cache_pb.ts";
import { ClassifierService } from "#libs/gen/llmgw/classifier/v1/classifier_pb.ts";
import { EvaluatorService } from "#libs/gen/llmgw/evaluator/v1/evaluator_pb.ts";
import { ExecutorService } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { LedgerService } from "#libs/gen/llmgw/ledger/v1/ledger_pb.ts";
import { RouterService } from "#libs/gen/llmgw/router/v1/router_pb.ts";
import { createMeshClient } from "#libs/rpc/mesh-client.ts";
import type { EdgeClients } from "./deps.ts";

export function meshClients(config: Config): EdgeClients {
  const s = config.services;
  return {
    classifier: createMeshClient(ClassifierService, s.classifier.address),
    cache: createMeshClient(CacheService, s.cache.address),
    router: createMeshClient(RouterService, s.router.address),
    executor: createMeshClient(ExecutorService, s.executor.address),
    evaluator: createMeshClient(EvaluatorService, s.evaluator.address),
    ledger: createMeshClient(LedgerService, s.ledger.address),
  };
}
