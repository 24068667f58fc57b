// Shadow-test verdicts as training examples for the learned router: a request whose cheaper
// candidates failed is one the cheap tier does not suffice for (target 1), one they matched is not
// (0); several candidates for one request average. This is the tenant's own traffic labelled by the
// evaluator, where the benchmark files are someone else's questions labelled by hand.
import type { TrainExample } from "./train.ts";
import type { ClassifyInput, Role } from "./types.ts";

export interface ShadowVerdictRow {
  requestId: string;
  ok: boolean;
  input: { messages: { role: string; content: string }[]; has_tools: boolean; json_mode: boolean };
}

const ROLES: readonly Role[] = ["system", "user", "assistant", "tool", "developer"];

export function shadowExamples(rows: readonly ShadowVerdictRow[]): TrainExample[] {
  const byRequest = new Map<string, { input: ClassifyInput; fails: number; n: number }>();
  for (const r of rows) {
    const messages = r.input.messages
      .filter((m) => typeof m.content === "string" && m.content.length > 0)
      .map((m) => ({ role: (ROLES as readonly string[]).includes(m.role) ? (m.role as Role) : "user", content: m.content }));
    if (messages.length === 0) continue;
    const e = byRequest.get(r.requestId) ?? { input: { messages, hasTools: r.input.has_tools, jsonMode: r.input.json_mode }, fails: 0, n: 0 };
    e.n++;
    if (!r.ok) e.fails++;
    byRequest.set(r.requestId, e);
  }
  return [...byRequest.entries()].map(([id, e]) => ({ id: `shadow:${id}`, input: e.input, target: e.fails / e.n }));
}
