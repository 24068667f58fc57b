// Reads shadow-test verdicts that kept their prompt (the evaluator's shadow_results) as training
// examples for `train:router --shadow`.
import type { SqlClient } from "#libs/sql/sql-client.ts";
import { ShadowResultStore } from "#services/evaluator/storage/shadow-results.ts";
import { shadowExamples } from "../domain/shadow-examples.ts";
import type { TrainExample } from "../domain/train.ts";

export async function readShadowExamples(sql: SqlClient, since: Date, tenant = ""): Promise<TrainExample[]> {
  return shadowExamples(await new ShadowResultStore(sql).trainingRows(since, tenant));
}
