// A fetch that hands requests to a Fastify app in the same process (light-my-request's inject):
// no socket, no TCP, no port, and the response body streams as the route writes it, so SSE
// chunks arrive one by one. Everything else (auth, validation, errors, headers) is the edge's own.
import { Readable } from "node:stream";
import type { InjectOptions, LightMyRequestResponse } from "fastify";

/** What a Fastify app offers (`app.inject`). */
export interface InjectTarget {
  inject(opts: InjectOptions): Promise<LightMyRequestResponse>;
}

const NO_BODY = new Set([101, 204, 205, 304]);

export function injectFetch(target: InjectTarget): typeof fetch {
  return async (input, init) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    const payload = req.body ? Buffer.from(await req.arrayBuffer()) : undefined;
    const headers: Record<string, string> = {};
    req.headers.forEach((v, k) => (headers[k] = v));
    const res = await target.inject({
      method: req.method as "GET",
      url: url.pathname + url.search,
      headers,
      ...(payload ? { payload } : {}),
      payloadAsStream: true,
      ...(init?.signal ? { signal: init.signal } : {}),
    });
    const out = new Headers();
    for (const [k, v] of Object.entries(res.headers)) {
      if (v === undefined) continue;
      for (const one of Array.isArray(v) ? v : [String(v)]) out.append(k, one);
    }
    const body = NO_BODY.has(res.statusCode) ? null : pulled(res.stream());
    return new Response(body, { status: res.statusCode, headers: out });
  };
}

/**
 * A web stream that pulls from the Node one. (Readable.toWeb pushes, and after a cancel or an abort
 * it may still enqueue into the closed controller, which throws out of band.)
 */
function pulled(r: Readable): ReadableStream<Uint8Array> {
  const it = r[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      try {
        const next = await it.next();
        if (next.done) ctl.close();
        else ctl.enqueue(typeof next.value === "string" ? Buffer.from(next.value) : next.value);
      } catch (e) {
        ctl.error(e);
      }
    },
    async cancel() {
      r.destroy();
      await it.return?.();
    },
  });
}
