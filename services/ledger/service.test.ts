// Bad input to the ledger's RPCs is InvalidArgument (or AlreadyExists), never a plain Error that the
// edge would have to answer with a 500; and the edge's one mapping turns it into a 4xx with the message.
import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectToOpenAI } from "#libs/errors/connect-to-openai.ts";
import { LedgerService } from "#libs/gen/llmgw/ledger/v1/ledger_pb.ts";
import { Budgets } from "./domain/budget.ts";
import { LedgerServiceImpl } from "./service.ts";
import { ResponseRpcs } from "./response-rpcs.ts";
import { BudgetLimitRepo } from "./storage/budget-limits.ts";
import { MemoryBudgetStore } from "./storage/budget-store-memory.ts";
import { KeyStore } from "./storage/key-store.ts";
import { SpendReport } from "./storage/spend-report.ts";
import { ResponseStore } from "./storage/response-store.ts";
import { openTestDb, type TestDb } from "./storage/test-support.ts";

describe("LedgerService bad input", () => {
  let db: TestDb;
  let ledger: Client<typeof LedgerService>;

  beforeAll(async () => {
    db = await openTestDb("pglite");
    const limits = new BudgetLimitRepo(db.sql);
    const impl = new LedgerServiceImpl(new KeyStore(db.sql), new Budgets(new MemoryBudgetStore(), limits), new SpendReport(db.sql), limits, new ResponseRpcs(new ResponseStore(db.sql, 3600)));
    // Over a Connect transport, so metadata and codes travel as they do in the mesh.
    ledger = createClient(LedgerService, createRouterTransport((r) => r.service(LedgerService, impl)));
  });
  afterAll(async () => {
    await db?.close();
  });

  const rejection = async (p: Promise<unknown>): Promise<ConnectError> => {
    const e = await p.then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(ConnectError);
    return e as ConnectError;
  };

  it.each([
    ["getSpend: since not a time", () => ledger.getSpend({ since: "last tuesday" }), Code.InvalidArgument, "since"],
    ["getSpend: unknown group_by", () => ledger.getSpend({ since: new Date().toISOString(), groupBy: "planet" }), Code.InvalidArgument, "group_by"],
    ["createKey: no tenant", () => ledger.createKey({ tenantId: "" }), Code.InvalidArgument, "tenant_id"],
    ["createKey: short key", () => ledger.createKey({ tenantId: "acme", key: "short" }), Code.InvalidArgument, "key"],
    ["reserveBudget: amount not USD", () => ledger.reserveBudget({ reservationId: "r1", tenantId: "acme", keyId: "k", amountUsd: "lots" }), Code.InvalidArgument, null],
    ["settleBudget: amount not USD", () => ledger.settleBudget({ reservationId: "r1", actualUsd: "-1" }), Code.InvalidArgument, null],
    ["setBudget: bad period", () => ledger.setBudget({ budget: { tenantId: "acme", period: "year" } }), Code.InvalidArgument, null],
    ["putResponse: no tenant", () => ledger.putResponse({ response: { id: "resp_1", inputJson: new TextEncoder().encode("[]"), responseJson: new TextEncoder().encode("{}") } }), Code.InvalidArgument, "tenant_id"],
    ["putResponse: bad id", () => ledger.putResponse({ response: { id: "chatcmpl-1", tenantId: "acme" } }), Code.InvalidArgument, "id"],
    ["putResponse: response not JSON", () => ledger.putResponse({ response: { id: "resp_1", tenantId: "acme", inputJson: new TextEncoder().encode("[]"), responseJson: new TextEncoder().encode("{oops") } }), Code.InvalidArgument, "response_json"],
  ] as const)("%s → %s", async (_name, call, code, param) => {
    const e = await rejection(call());
    expect(e.code).toBe(code);
    const ge = connectToOpenAI(e);
    expect(ge.status).toBe(400);
    expect(ge.toBody().error).toEqual({ message: e.rawMessage, type: "invalid_request_error", param, code: "invalid_argument" });
  });

  it("a chosen key that exists already is AlreadyExists (409), without the database's words", async () => {
    const key = "llmgw-chosen-key-0123456789";
    await ledger.createKey({ tenantId: "acme", key });
    const e = await rejection(ledger.createKey({ tenantId: "acme", key }));
    expect(e.code).toBe(Code.AlreadyExists);
    expect(e.rawMessage).not.toMatch(/constraint|duplicate|api_keys/i);
    expect(connectToOpenAI(e).status).toBe(409);
  });

  it("good input still works", async () => {
    const r = await ledger.getSpend({ since: new Date(Date.now() - 86_400_000).toISOString(), groupBy: "model" });
    expect(r.rows).toEqual([]);
    const res = await ledger.reserveBudget({ reservationId: "ok-1", tenantId: "acme", keyId: "k", amountUsd: "0.25" });
    expect(res.admitted).toBe(true);
    await ledger.settleBudget({ reservationId: "ok-1", actualUsd: "0.1" });
  });
});
