// One SSE frame onto a raw response, with back-pressure. A client that went away never drains: waiting
// on 'drain' alone would suspend the stream for good, and with it the executor's provider call and its
// concurrency slot (enough of them and a deployment stops answering). So 'close' ends the wait too.
import type { ServerResponse } from "node:http";

/** Writes `frame`; when the socket's buffer is full, waits until it drains. False once the client is gone. */
export async function writeSse(res: ServerResponse, frame: string): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return false;
  if (res.write(frame)) return true;
  await new Promise<void>((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.once("drain", done);
    res.once("close", done);
  });
  return !res.destroyed;
}

/** Takes the socket for an event stream: status 200 with the SSE headers and the caller's own. */
export function openSse(res: ServerResponse, headers: Record<string, string>): void {
  // No "connection" header: Node sets keep-alive itself and, when the client sent "Connection: close", closes
  // the socket after the stream; forcing keep-alive left such clients waiting for a close that never came.
  res.writeHead(200, { ...headers, "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" });
}
