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

/**
 * NATS subject matching with `*` (one token) and `>` (one or more trailing tokens). Token by token in
 * place, without splitting either string: the memory bus runs it per publish and durable consumer.
 */
export function subjectMatches(filter: string, subject: string): boolean {
  let fi = 0;
  let si = 0;
  for (;;) {
    const fDot = filter.indexOf(".", fi);
    const sDot = subject.indexOf(".", si);
    const fEnd = fDot < 0 ? filter.length : fDot;
    const sEnd = sDot < 0 ? subject.length : sDot;
    const fLen = fEnd - fi;
    const single = fLen === 1 ? filter.charCodeAt(fi) : -1;
    if (single === GT) return true; // the subject has a token here: `>` takes it and the rest
    if (single !== STAR && !sameToken(filter, fi, fLen, subject, si, sEnd - si)) return false;
    if (fDot < 0 || sDot < 0) return fDot < 0 && sDot < 0;
    fi = fDot + 1;
    si = sDot + 1;
  }
}

const GT = 0x3e; // ">"
const STAR = 0x2a; // "*"

function sameToken(a: string, ai: number, aLen: number, b: string, bi: number, bLen: number): boolean {
  if (aLen !== bLen) return false;
  for (let k = 0; k < aLen; k++) if (a.charCodeAt(ai + k) !== b.charCodeAt(bi + k)) return false;
  return true;
}
