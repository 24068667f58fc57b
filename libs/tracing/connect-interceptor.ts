// Connect transports (the mesh's Connect client option): the caller's traceparent on every request.
import type { Interceptor } from "@connectrpc/connect";
import { traceHeaders } from "./tracing.ts";

export const traceContextInterceptor: Interceptor = (next) => (req) => {
  const carrier = traceHeaders();
  if (carrier) for (const [k, v] of Object.entries(carrier)) req.header.set(k, v);
  return next(req);
};
