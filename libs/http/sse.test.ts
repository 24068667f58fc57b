import { createServer, type ServerResponse } from "node:http";
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { writeSse } from "./sse.ts";

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
