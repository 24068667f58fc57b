// Stream name and subject prefix come from settings (LLMGW_EVENTS_STREAM / _PREFIX) so tests and
// tenants of one NATS can isolate.
import { DEFAULT_BUS_NAMES, type BusNames } from "#libs/config/settings.ts";

export { DEFAULT_BUS_NAMES, type BusNames };

export function subjects(n: BusNames = DEFAULT_BUS_NAMES) {
  return {
    all: `${n.prefix}.>`,
    requestCompleted: `${n.prefix}.request.completed`,
    costRecorded: `${n.prefix}.cost.recorded`,
    shadowRequested: `${n.prefix}.shadow.requested`,
    shadowEvaluated: `${n.prefix}.shadow.evaluated`,
  };
}

/** NATS subject matching with `*` (one token) and `>` (one or more trailing tokens). */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split(".");
  const s = subject.split(".");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === ">") return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== "*" && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}
