// A service whose database, Redis or broker fails answers Unavailable (the edge: 503 with
// Retry-After), not Internal (500): the caller may retry, and nothing is wrong with the request.
// Recognized by the drivers' own error codes and messages (pg, ioredis, nats, node's net errors).
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";

const NET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTCONN", "EAI_AGAIN"]);
// PostgreSQL SQLSTATEs: 57014 query_canceled (statement_timeout), 57P01..57P03 admin shutdown / cannot connect now, class 08 connection exceptions.
const PG_CODES = /^(57014|57P0[123]|08\d{3})$/;
const MESSAGES = [
  /Connection terminated/i, // pg
  /Query read timeout/i, // pg query_timeout
  /timeout exceeded when trying to connect/i, // pg pool connectionTimeoutMillis
  /Client has encountered a connection error/i, // pg
  /Command timed out/i, // ioredis commandTimeout
  /Stream isn't writeable/i, // ioredis without offline queue
  /Connection is closed/i, // ioredis
  /budget store unavailable/i, // GuardedBudgetStore
];

export function isDependencyFailure(e: unknown): boolean {
  for (let cur: unknown = e, depth = 0; cur && depth < 4; depth++) {
    if (typeof cur !== "object") return false;
    const { code, message, cause } = cur as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === "string" && (NET_CODES.has(code) || PG_CODES.test(code))) return true;
    if (typeof message === "string" && MESSAGES.some((m) => m.test(message))) return true;
    cur = cause;
  }
  return false;
}

/** The impl with every unary method's dependency failures turned into Unavailable. */
export function withDependencyErrors<S extends DescService>(service: S, impl: ServiceImpl<S>): ServiceImpl<S> {
  // Methods live on the class prototype: each is taken by name (a spread would copy none).
  const out: Record<string, unknown> = {};
  const methods = impl as unknown as Record<string, (req: unknown, ctx: unknown) => unknown>;
  for (const m of service.methods as readonly DescMethod[]) {
    const fn = methods[m.localName];
    if (typeof fn !== "function") continue;
    if (m.methodKind !== "unary") {
      out[m.localName] = fn.bind(impl);
      continue;
    }
    out[m.localName] = async (req: unknown, ctx: unknown) => {
      try {
        return await fn.call(impl, req, ctx);
      } catch (e) {
        if (!(e instanceof ConnectError) && isDependencyFailure(e)) {
          throw new ConnectError(`dependency unavailable: ${e instanceof Error ? e.message : String(e)}`, Code.Unavailable, undefined, undefined, e);
        }
        throw e;
      }
    };
  }
  return out as ServiceImpl<S>;
}
