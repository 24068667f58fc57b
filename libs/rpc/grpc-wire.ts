// Binary gRPC wire details for the node:http2 mesh client (http2-client.ts): 5-byte length-prefixed
// frames, the grpc-timeout header, and how a call's end (trailers, HTTP status, RST_STREAM) maps to
// a Connect code. Kept to what grpc-js does, so switching client kinds changes no caller's errors.
import http2 from "node:http2";
import { Code } from "@connectrpc/connect";

/** One uncompressed message frame: flag 0, big-endian length, the bytes. */
export function encodeFrame(bytes: Uint8Array): Buffer {
  const f = Buffer.allocUnsafe(5 + bytes.byteLength);
  f[0] = 0;
  f.writeUInt32BE(bytes.byteLength, 1);
  f.set(bytes, 5);
  return f;
}

/**
 * Splits a byte stream into frame payloads as chunks arrive. Chunks are kept as they are until a
 * frame is complete; the common case (one chunk holds whole frames) copies nothing.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private size = 0;
  private need = -1;

  /** Adds a chunk; returns the payloads it completed, or an error text for a frame we cannot read. */
  push(chunk: Buffer, out: Buffer[]): string | undefined {
    if (this.size === 0) {
      // Fast path: whole frames in this chunk, a partial tail kept.
      let off = 0;
      while (chunk.length - off >= 5) {
        const len = chunk.readUInt32BE(off + 1);
        if (chunk.length - off < 5 + len) break;
        if ((chunk[off] as number) & 1) return "protocol error: received compressed message without grpc-encoding";
        out.push(chunk.subarray(off + 5, off + 5 + len));
        off += 5 + len;
      }
      if (off < chunk.length) {
        const tail = off === 0 ? chunk : chunk.subarray(off);
        this.chunks = [tail];
        this.size = tail.length;
        if (tail.length >= 5) {
          if ((tail[0] as number) & 1) return "protocol error: received compressed message without grpc-encoding";
          this.need = 5 + tail.readUInt32BE(1);
        }
      }
      return undefined;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    for (;;) {
      if (this.size < 5) return undefined;
      // The header is read once per frame; the payload is joined only when it is complete, so a
      // large message arriving in many chunks is copied once.
      if (this.need < 0) {
        const head = this.flatten(5);
        if ((head[0] as number) & 1) return "protocol error: received compressed message without grpc-encoding";
        this.need = 5 + head.readUInt32BE(1);
      }
      if (this.size < this.need) return undefined;
      const all = this.flatten(this.size);
      out.push(all.subarray(5, this.need));
      const rest = all.subarray(this.need);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.size = rest.length;
      this.need = -1;
    }
  }

  /** Bytes received that do not make a whole frame. */
  get pending(): number {
    return this.size;
  }

  /** The first chunk, made at least `n` bytes long by joining chunks. */
  private flatten(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length >= n) return first;
    const all = Buffer.concat(this.chunks, this.size);
    this.chunks = [all];
    return all;
  }
}

/** grpc-timeout value for `ms` (at most 8 digits, so coarser units for long deadlines). */
export function grpcTimeout(ms: number): string {
  const m = Math.max(0, Math.ceil(ms));
  if (m < 1e8) return `${m}m`;
  const s = Math.ceil(m / 1_000);
  if (s < 1e8) return `${s}S`;
  return `${Math.min(99_999_999, Math.ceil(m / 3_600_000))}H`;
}

/** grpc-message is percent-encoded UTF-8. */
export function decodeGrpcMessage(v: string): string {
  if (!v.includes("%")) return v;
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/** A gRPC status code from trailers: 0..16, anything else is Unknown. */
export function statusCode(v: string): number {
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 && n <= 16 ? n : Code.Unknown;
}

/** The gRPC code for a non-200 HTTP status (the gRPC spec's HTTP-to-gRPC status mapping). */
export function codeOfHttpStatus(status: number): Code {
  switch (status) {
    case 400:
      return Code.Internal;
    case 401:
      return Code.Unauthenticated;
    case 403:
      return Code.PermissionDenied;
    case 404:
      return Code.Unimplemented;
    case 429:
    case 502:
    case 503:
    case 504:
      return Code.Unavailable;
    default:
      return Code.Unknown;
  }
}

/** A stream the peer reset before a status arrived (grpc-js's mapping of RST_STREAM codes). */
export function resetStatus(rstCode: number): { code: Code; message: string } {
  switch (rstCode) {
    case http2.constants.NGHTTP2_REFUSED_STREAM:
      return { code: Code.Unavailable, message: "Stream refused by server" };
    case http2.constants.NGHTTP2_CANCEL:
      return { code: Code.Canceled, message: "Call cancelled" };
    case http2.constants.NGHTTP2_ENHANCE_YOUR_CALM:
      return { code: Code.ResourceExhausted, message: "Bandwidth exhausted or memory limit exceeded" };
    case http2.constants.NGHTTP2_INADEQUATE_SECURITY:
      return { code: Code.PermissionDenied, message: "Protocol not secure enough" };
    case http2.constants.NGHTTP2_NO_ERROR:
      return { code: Code.Internal, message: "Received RST_STREAM with code 0 before a status" };
    default:
      return { code: Code.Internal, message: `Received RST_STREAM with code ${rstCode}` };
  }
}
