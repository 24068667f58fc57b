// RequestCompleted (llmgw.events.v1) written straight to protobuf bytes from the fields the edge has
// at hand. create() + toBinary() built a message tree and walked it reflectively: ~3% of the embedded
// gateway's CPU at c=1, once per request. The bytes are the same as toBinary's (fields in number order,
// proto3 zero values left out); request-completed-wire.test.ts checks that against toBinary and that
// every field of the schema is written, so a field added to the proto fails the test until it is here.
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { RequestContextSchema, Tier, Usage } from "#libs/gen/llmgw/common/v1/common_pb.ts";

/** One ProviderCall as the ledger records it. */
export interface CallFields {
  callId: string;
  kind: string;
  model: string;
  provider: string;
  status: string;
  errorCode: string;
  latencyMs: bigint;
  usage: Usage | undefined;
  startedAt: string;
}

/** Every field of RequestCompleted, as its encoder takes them. */
export interface CompletedFields {
  context: MessageInitShape<typeof RequestContextSchema>;
  receivedAt: string;
  completedAt: string;
  requestedModel: string;
  tier: Tier;
  category: string;
  confidence: number;
  model: string;
  provider: string;
  cacheOutcome: string;
  cascaded: boolean;
  escalated: boolean;
  httpStatus: number;
  errorCode: string;
  latencyMs: bigint;
  overheadMs: number;
  stream: boolean;
  batch: boolean;
  baselineModel: string;
  calls: CallFields[];
  answerUsage: Usage | undefined;
  budgetReserved: boolean;
  policyVersion: bigint;
  policyCanary: boolean;
}

const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;

/**
 * A growable scratch buffer, reused by every encoding (they are synchronous): the result is copied out.
 * Nested messages reserve one byte for their length and move their body when it needs more.
 */
class Writer {
  buf = Buffer.allocUnsafe(2048);
  pos = 0;

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** A non-negative integer below 2^53. */
  varint(n: number): void {
    this.ensure(8);
    const b = this.buf;
    while (n > 0x7f) {
      b[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    b[this.pos++] = n;
  }

  /** Any 64-bit value as protobuf writes int64: negatives as their two's complement (10 bytes). */
  varint64(v: bigint): void {
    if (v >= 0n && v <= 0x1fffffffffffffn) return this.varint(Number(v));
    let u = BigInt.asUintN(64, v);
    this.ensure(10);
    while (u > 0x7fn) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  string(field: number, s: string): void {
    if (s === "") return;
    this.tag(field, LEN);
    // Up to 42 UTF-16 units make at most 126 UTF-8 bytes: a one-byte length, known after the write.
    if (s.length <= 42) {
      this.ensure(1 + s.length * 3);
      const n = this.buf.write(s, this.pos + 1, "utf8");
      this.buf[this.pos] = n;
      this.pos += 1 + n;
      return;
    }
    const n = Buffer.byteLength(s, "utf8");
    this.varint(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, "utf8");
  }

  bool(field: number, v: boolean): void {
    if (!v) return;
    this.tag(field, VARINT);
    this.varint(1);
  }

  int32(field: number, v: number): void {
    if (v === 0) return;
    this.tag(field, VARINT);
    if (v > 0) this.varint(v);
    else this.varint64(BigInt(v));
  }

  int64(field: number, v: bigint): void {
    if (v === 0n) return;
    this.tag(field, VARINT);
    this.varint64(v);
  }

  double(field: number, v: number): void {
    // toBinary leaves out +0 only (Object.is): -0 is written.
    if (Object.is(v, 0)) return;
    this.tag(field, FIXED64);
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  /** Starts a length-delimited field; end() with the returned mark writes its length. */
  begin(field: number): number {
    this.tag(field, LEN);
    this.ensure(1);
    this.pos += 1;
    return this.pos;
  }

  end(start: number): void {
    const len = this.pos - start;
    if (len < 0x80) {
      this.buf[start - 1] = len;
      return;
    }
    let extra = 0;
    for (let n = len; n >= 0x80; n = Math.floor(n / 0x80)) extra++;
    this.ensure(extra);
    const b = this.buf;
    b.copy(b, start + extra, start, this.pos);
    let p = start - 1;
    for (let n = len; ; n = Math.floor(n / 0x80)) {
      if (n < 0x80) {
        b[p] = n;
        break;
      }
      b[p++] = (n % 0x80) | 0x80;
    }
    this.pos += extra;
  }

  usage(field: number, u: Usage): void {
    const at = this.begin(field);
    this.int64(1, u.inputTokens);
    this.int64(2, u.cachedInputTokens);
    this.int64(3, u.cacheWrite5mTokens);
    this.int64(4, u.cacheWrite1hTokens);
    this.int64(5, u.outputTokens);
    this.int64(6, u.reasoningTokens);
    this.bool(7, u.estimated);
    this.end(at);
  }

  take(): Uint8Array {
    const out = new Uint8Array(this.pos);
    out.set(this.buf.subarray(0, this.pos));
    this.pos = 0;
    return out;
  }
}

const w = new Writer();

/** RequestCompleted's protobuf bytes, as toBinary(RequestCompletedSchema, create(RequestCompletedSchema, f)) writes them. */
export function encodeRequestCompleted(f: CompletedFields): Uint8Array {
  w.pos = 0;
  const ctx = f.context;
  const at = w.begin(1);
  w.string(1, ctx.requestId ?? "");
  w.string(2, ctx.tenantId ?? "");
  w.string(3, ctx.keyId ?? "");
  w.string(4, ctx.traceId ?? "");
  w.end(at);
  w.string(2, f.receivedAt);
  w.string(3, f.completedAt);
  w.string(4, f.requestedModel);
  w.int32(5, f.tier);
  w.string(6, f.category);
  w.double(7, f.confidence);
  w.string(8, f.model);
  w.string(9, f.provider);
  w.string(10, f.cacheOutcome);
  w.bool(11, f.cascaded);
  w.bool(12, f.escalated);
  w.int32(13, f.httpStatus);
  w.string(14, f.errorCode);
  w.int64(15, f.latencyMs);
  w.double(16, f.overheadMs);
  w.bool(17, f.stream);
  w.bool(18, f.batch);
  w.string(19, f.baselineModel);
  for (const c of f.calls) {
    const call = w.begin(20);
    w.string(1, c.callId);
    w.string(2, c.kind);
    w.string(3, c.model);
    w.string(4, c.provider);
    w.string(5, c.status);
    w.string(6, c.errorCode);
    w.int64(7, c.latencyMs);
    if (c.usage) w.usage(8, c.usage);
    w.string(9, c.startedAt);
    w.end(call);
  }
  if (f.answerUsage) w.usage(21, f.answerUsage);
  w.bool(22, f.budgetReserved);
  w.int64(23, f.policyVersion);
  w.bool(24, f.policyCanary);
  return w.take();
}
