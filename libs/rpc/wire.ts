// What every RPC path does to a message the same way: take ours as it is (or make an init object into
// one), encode it, and put it in the 5-byte envelope gRPC and Connect streaming share. Used by the
// in-process and mesh clients and by both server fast paths.
import { create, isMessage, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";

/** Messages built by our own code are passed as they are; plain init objects are made into messages. */
export function asMessage<S extends DescMessage>(schema: S, value: unknown): MessageShape<S> {
  return isMessage(value, schema) ? value : create(schema, value as never);
}

/** `value` (a message or an init object) as protobuf bytes. */
export function encodeMessage(schema: DescMessage, value: unknown): Uint8Array {
  return toBinary(schema, asMessage(schema, value));
}

/** `bytes` behind the 5-byte prefix: flags, then the length as a big-endian uint32. */
export function envelope(flags: number, bytes: Uint8Array): Buffer {
  const f = Buffer.allocUnsafe(5 + bytes.byteLength);
  f[0] = flags;
  f.writeUInt32BE(bytes.byteLength, 1);
  f.set(bytes, 5);
  return f;
}
