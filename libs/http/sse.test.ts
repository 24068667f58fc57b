import { createServer, type ServerResponse } from "node:http";
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { openSse, writeSse } from "./sse.ts";

describe("writeSse", () => {
  it("stops waiting for a drain when the client goes away, and says so", async () => {
    let result: Promise<boolean[]> | undefined;
    const server = createServer((_req, res: ServerResponse) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      result = (async () => {
        const out: boolean[] = [];
        const frame = `data: ${"x".repeat(64 * 1024)}\n\n`;
        // The client reads nothing: the socket's buffer fills, then the client disconnects.
        for (let i = 0; i < 200; i++) {
          const ok = await writeSse(res, frame);
          out.push(ok);
          if (!ok) break;
        }
        return out;
      })();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const socket = connect((server.address() as AddressInfo).port, "127.0.0.1");
    socket.pause();
    socket.write("GET / HTTP/1.1\r\nhost: x\r\n\r\n");
    await new Promise((r) => setTimeout(r, 300));
    socket.destroy();
    for (let i = 0; i < 100 && !result; i++) await new Promise((r) => setTimeout(r, 10));
    const out = await Promise.race([result, new Promise<"hung">((r) => setTimeout(() => r("hung"), 5_000))]);
    expect(out).not.toBe("hung");
    expect((out as boolean[]).at(-1)).toBe(false);
    server.close();
  });
});

describe("openSse", () => {
  it("closes the socket after the stream when the client sent Connection: close, keeps it open otherwise", async () => {
    const server = createServer((_req, res: ServerResponse) => {
      openSse(res, { "x-test": "1" });
      res.end("data: [DONE]\n\n");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    // What came back and whether the server closed the socket within 2 s.
    const ask = (connection: string) =>
      new Promise<{ raw: string; closed: boolean }>((resolve) => {
        const s = connect({ port, host: "127.0.0.1" });
        let raw = "";
        const timer = setTimeout(() => {
          s.destroy();
          resolve({ raw, closed: false });
        }, 2_000);
        s.on("data", (d: Buffer) => (raw += d.toString("latin1")));
        s.on("close", () => {
          clearTimeout(timer);
          resolve({ raw, closed: true });
        });
        s.write(`GET / HTTP/1.1\r\nHost: x\r\nConnection: ${connection}\r\n\r\n`);
      });
    const close = await ask("close");
    const keep = await ask("keep-alive");
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    expect(close.closed).toBe(true);
    expect(close.raw).toMatch(/\r\nconnection: close\r\n/i);
    expect(close.raw).toContain("data: [DONE]");
    expect(keep.closed).toBe(false);
    expect(keep.raw).toMatch(/\r\nconnection: keep-alive\r\n/i);
    expect(keep.raw).toMatch(/\r\ncontent-type: text\/event-stream; charset=utf-8\r\n/);
  });
});
