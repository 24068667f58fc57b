import net, { type AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { H1Pool, type H1Handler, type RawHeaderList } from "./h1-pool.ts";

interface Outcome {
  status: number;
  headers: Record<string, string>;
  body: string;
  error?: string;
}

/** One call through `pool`, collected. */
function call(pool: H1Pool, path = "/x", body = "req"): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Outcome = { status: 0, headers: {}, body: "" };
    const h: H1Handler = {
      onConnect: () => undefined,
      onHeaders(status: number, raw: RawHeaderList) {
        out.status = status;
        for (let i = 0; i < raw.length; i += 2) out.headers[String(raw[i]).toLowerCase()] = String(raw[i + 1]);
        return true;
      },
      onData(chunk: Buffer) {
        out.body += chunk.toString();
        return true;
      },
      onComplete: () => resolve(out),
      onError: (e: Error) => resolve({ ...out, error: (e as { code?: string }).code ?? e.message }),
    };
    pool.dispatch({ path, method: "POST", headers: { "content-type": "application/proto" }, body: Buffer.from(body) }, h);
  });
}

/** A raw TCP server: `answer` gets each request's head and body and the socket; counts connections. */
async function rawServer(answer: (head: string, body: string, s: net.Socket) => void): Promise<{ port: number; conns: () => number; close: () => Promise<void> }> {
  let conns = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    conns++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    let buf = "";
    s.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      for (;;) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buf.slice(0, end);
        const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        const body = buf.slice(end + 4, end + 4 + len);
        buf = buf.slice(end + 4 + len);
        answer(head, body, s);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    conns: () => conns,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup(answer: Parameters<typeof rawServer>[0]): Promise<{ pool: H1Pool; conns: () => number }> {
  const srv = await rawServer(answer);
  const pool = new H1Pool("127.0.0.1", srv.port, { keepAliveMs: 30_000, connectTimeoutMs: 2_000 });
  cleanups.push(async () => {
    await pool.destroy();
    await srv.close();
  });
  return { pool, conns: srv.conns };
}

describe("H1Pool", () => {
  it("sends one request per socket, reads Content-Length answers and reuses the socket", async () => {
    let seenHead = "";
    const { pool, conns } = await setup((head, body, s) => {
      seenHead = head;
      s.write(`HTTP/1.1 200 OK\r\nContent-Type: application/proto\r\nContent-Length: ${body.length + 1}\r\n\r\n${body}!`);
    });
    const a = await call(pool, "/a", "one");
    const b = await call(pool, "/b", "two");
    expect(a).toEqual({ status: 200, headers: { "content-type": "application/proto", "content-length": "4" }, body: "one!" });
    expect(b.body).toBe("two!");
    expect(seenHead).toMatch(/^POST \/b HTTP\/1\.1\r\n/);
    expect(seenHead).toMatch(/\r\nhost: 127\.0\.0\.1:\d+(\r\n|$)/);
    expect(conns()).toBe(1);
  });

  it("reads chunked answers split anywhere, skips 1xx, and closes on `connection: close`", async () => {
    const { pool, conns } = await setup((_h, _b, s) => {
      const wire = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nx-trailer: y\r\n\r\n";
      // One byte per write: every boundary of the parser is crossed.
      let i = 0;
      const next = () => {
        if (i < wire.length) s.write(wire[i++] as string, () => setImmediate(next));
        else s.end();
      };
      next();
    });
    const a = await call(pool);
    expect(a.error).toBeUndefined();
    expect(a.body).toBe("abcde");
    await call(pool);
    expect(conns()).toBe(2);
  });

  it("reads a body that ends with the connection", async () => {
    const { pool } = await setup((_h, _b, s) => s.end("HTTP/1.1 200 OK\r\n\r\nuntil-close"));
    expect((await call(pool)).body).toBe("until-close");
  });

  it("fails the call with UND_ERR_SOCKET when the server closes mid-answer, and recovers on a new socket", async () => {
    let n = 0;
    const { pool } = await setup((_h, body, s) => {
      if (n++ === 0) s.end("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
      else s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    });
    expect((await call(pool)).error).toBe("UND_ERR_SOCKET");
    expect((await call(pool, "/x", "ok")).body).toBe("ok");
  });

  it("reports a refused connection as ECONNREFUSED", async () => {
    const srv = await rawServer(() => undefined);
    await srv.close();
    const pool = new H1Pool("127.0.0.1", srv.port, { keepAliveMs: 30_000, connectTimeoutMs: 2_000 });
    expect((await call(pool)).error).toBe("ECONNREFUSED");
    await pool.destroy();
  });

  it("refuses header values that would end the line", async () => {
    const { pool } = await setup(() => undefined);
    const err = await new Promise<string>((resolve) =>
      pool.dispatch(
        { path: "/x", method: "POST", headers: { "x-bad": "a\r\nx-injected: 1" }, body: Buffer.alloc(0) },
        { onConnect: () => undefined, onHeaders: () => true, onData: () => true, onComplete: () => resolve("completed"), onError: (e) => resolve((e as { code?: string }).code ?? "") },
      ),
    );
    expect(err).toBe("UND_ERR_INVALID_ARG");
  });

  it("drops idle sockets once the server's keep-alive hint (less a margin) has passed", async () => {
    const { pool, conns } = await setup((_h, body, s) => s.write(`HTTP/1.1 200 OK\r\nKeep-Alive: timeout=2\r\nContent-Length: ${body.length}\r\n\r\n${body}`));
    await call(pool);
    await call(pool);
    expect(conns()).toBe(1);
    // timeout=2 s less the 2 s margin: idle sockets go at the next sweep (1 s).
    await new Promise((r) => setTimeout(r, 1_300));
    await call(pool);
    expect(conns()).toBe(2);
  });
});
