// train:router --shadow's data path: verdicts stored by the evaluator (PGlite, the embedded database)
// become examples, and a router trained on them learns the tenant's own split.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type OpenedDatabase } from "#libs/sql/open-database.ts";
import { EVALUATOR_MIGRATIONS } from "#services/evaluator/storage/migrations.ts";
import { ShadowResultStore } from "#services/evaluator/storage/shadow-results.ts";
import { LearnedClassifier } from "../domain/learned.ts";
import { trainRouter } from "../domain/train.ts";
import { readShadowExamples } from "./shadow-source.ts";

const SHIPPING = ["Where is my parcel {n}?", "Track order number {n} please", "When will package {n} arrive?", "Has shipment {n} left the warehouse?"];
const CONTRACTS = ["Review clause {n} of this indemnity agreement for liability exposure", "Does section {n} of the lease conflict with the termination rights?", "Draft a rebuttal to counterclause {n} on warranty limits", "Assess the enforceability of non-compete provision {n}"];

describe("train:router --shadow", () => {
  let db: OpenedDatabase;
  beforeAll(async () => {
    db = await openDatabase("pglite:memory", { migrations: [EVALUATOR_MIGRATIONS] });
    const store = new ShadowResultStore(db.sql);
    for (let n = 0; n < 80; n++) {
      for (const [templates, ok] of [[SHIPPING, true], [CONTRACTS, false]] as const) {
        const content = templates[n % templates.length]!.replace("{n}", String(n));
        await store.record(
          {
            requestId: `${ok ? "ship" : "law"}-${n}`, candidateModel: "gpt-4o-mini", tenantId: "acme", category: "qa", tier: "HIGH", servedModel: "gpt-4o",
            ok, score: ok ? 1 : 0, failures: [], verdicts: [], candidateCostUsd: "0.0001",
            input: { messages: [{ role: "user", content }], has_tools: false, json_mode: false },
          },
          undefined,
        );
      }
    }
  });
  afterAll(() => db.close());

  it("learns from the tenant's verdicts which prompts the cheap model serves well", async () => {
    const examples = await readShadowExamples(db.sql, new Date(Date.now() - 3_600_000), "acme");
    expect(examples).toHaveLength(160);
    expect(await readShadowExamples(db.sql, new Date(Date.now() - 3_600_000), "other")).toHaveLength(0);
    const router = new LearnedClassifier(trainRouter(examples, { version: "shadow-test", epochs: 8 }));
    const p = (content: string) => router.strongProbability({ messages: [{ role: "user", content }], hasTools: false, jsonMode: false });
    expect(p("Review clause 912 of the indemnity agreement for liability")).toBeGreaterThan(p("Where is my parcel 912?") + 0.3);
  });
});
