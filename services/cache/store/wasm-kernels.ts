/**
 * WebAssembly SIMD kernels of the compact index's large partitions (row-arena.ts), assembled here from
 * their instructions: no toolchain, no binary file, nothing loaded at run time. Three functions over
 * one imported memory, in the text format's terms:
 *
 *   scan(codes, n, q, dist, hist): for each 32-byte code, d = popcount(code ^ q) by XOR + i8x16.popcnt
 *     on two 128-bit halves and pairwise widening adds; dist[r] = d (u16); hist[d] += 1 (u32).
 *   pick(dist, n, cut, atCut, out) -> m: row numbers r with dist[r] < cut, and the first `atCut` with
 *     dist[r] == cut, written in order to out (i32); returns how many.
 *   dot(row, q, chunks) -> i32: sum over `chunks` blocks of 16 of int8 row[i] * int16 q[i]
 *     (i16x8.extend_{low,high}_i8x16_s, i32x4.dot_i16x8_s). Reads whole blocks: the caller pads q with
 *     zeros to 16 * chunks and leaves 16 readable bytes after the last row.
 *
 * Why: JavaScript has no popcount and no integer SIMD; in V8 these loops ran about 3x (popcount) and 4x
 * (int8 dot) slower as JavaScript, and long loops run interpreted on the first lookups until V8 has
 * optimised them, which is most of a cold lookup's time. WebAssembly is compiled before its first call.
 */

/** The part of the WebAssembly API used here (the project's TypeScript lib has no DOM types). */
export interface WasmModule {
  readonly kind?: "module";
}
export interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer };
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> };
}
export const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

export interface Kernels {
  scan(codes: number, n: number, q: number, dist: number, hist: number): void;
  pick(dist: number, n: number, cut: number, atCut: number, out: number): number;
  dot(row: number, q: number, chunks: number): number;
}

const I32 = 0x7f;
const V128 = 0x7b;
const op = {
  block: 0x02,
  loop: 0x03,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  i32Load16U: 0x2f,
  i32Store: 0x36,
  i32Store16: 0x3b,
  i32Const: 0x41,
  i32Eqz: 0x45,
  i32Ne: 0x47,
  i32LtU: 0x49,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Shl: 0x74,
  i32ShrU: 0x76,
} as const;
/** SIMD instructions: prefix 0xfd, then the opcode as unsigned LEB128. */
const simd = {
  load: [0xfd, 0x00],
  i32x4ExtractLane: [0xfd, 0x1b],
  xor: [0xfd, 0x51],
  i8x16Popcnt: [0xfd, 0x62],
  i8x16Add: [0xfd, 0x6e],
  i16x8ExtaddPairwiseI8x16U: [0xfd, 0x7d],
  i32x4ExtaddPairwiseI16x8U: [0xfd, 0x7f],
  i16x8ExtendLowI8x16S: [0xfd, 0x87, 0x01],
  i16x8ExtendHighI8x16S: [0xfd, 0x88, 0x01],
  i32x4Add: [0xfd, 0xae, 0x01],
  i32x4DotI16x8S: [0xfd, 0xba, 0x01],
} as const;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function name(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}

const get = (i: number): number[] => [op.localGet, i];
const set = (i: number): number[] => [op.localSet, i];
const addConst = (i: number, c: number): number[] => [...get(i), op.i32Const, ...uleb(c), op.i32Add, ...set(i)];
const load128 = (offset: number): number[] => [...simd.load, 4, ...uleb(offset)];
/** v[0] + v[1] + v[2] + v[3] of the i32x4 in local `v`. */
const laneSum = (v: number): number[] => [
  ...get(v), ...simd.i32x4ExtractLane, 0,
  ...get(v), ...simd.i32x4ExtractLane, 1, op.i32Add,
  ...get(v), ...simd.i32x4ExtractLane, 2, op.i32Add,
  ...get(v), ...simd.i32x4ExtractLane, 3, op.i32Add,
];

function scanBody(): number[] {
  // params: 0 codes, 1 n, 2 q, 3 dist, 4 hist; locals: 5 qa, 6 qb (v128), 7 end, 8 d (i32), 9 v (v128)
  const [CODES, N, Q, DIST, HIST, QA, QB, END, D, V] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] as const;
  const code = [
    ...get(Q), ...load128(0), ...set(QA),
    ...get(Q), ...load128(16), ...set(QB),
    ...get(CODES), ...get(N), op.i32Const, 5, op.i32Shl, op.i32Add, ...set(END),
    op.block, 0x40,
    op.loop, 0x40,
    ...get(CODES), ...get(END), op.i32GeU, op.brIf, 1,
    ...get(CODES), ...load128(0), ...get(QA), ...simd.xor, ...simd.i8x16Popcnt,
    ...get(CODES), ...load128(16), ...get(QB), ...simd.xor, ...simd.i8x16Popcnt,
    ...simd.i8x16Add, ...simd.i16x8ExtaddPairwiseI8x16U, ...simd.i32x4ExtaddPairwiseI16x8U, ...set(V),
    ...laneSum(V), ...set(D),
    ...get(DIST), ...get(D), op.i32Store16, 1, 0,
    ...addConst(DIST, 2),
    // hist[d] += 1 (the address reuses local d)
    ...get(HIST), ...get(D), op.i32Const, 2, op.i32Shl, op.i32Add, op.localTee, D,
    ...get(D), op.i32Load, 2, 0, op.i32Const, 1, op.i32Add, op.i32Store, 2, 0,
    ...addConst(CODES, 32),
    op.br, 0,
    op.end,
    op.end,
    op.end,
  ];
  return [3, 2, V128, 2, I32, 1, V128, ...code];
}

function pickBody(): number[] {
  // params: 0 dist, 1 n, 2 cut, 3 atCut, 4 out; locals: 5 r, 6 d, 7 out0 (i32)
  const [DIST, N, CUT, AT_CUT, OUT, R, D, OUT0] = [0, 1, 2, 3, 4, 5, 6, 7] as const;
  const code = [
    ...get(OUT), ...set(OUT0),
    op.block, 0x40, // exit
    op.loop, 0x40, // next row
    ...get(R), ...get(N), op.i32GeU, op.brIf, 1,
    ...get(DIST), ...get(R), op.i32Const, 1, op.i32Shl, op.i32Add, op.i32Load16U, 1, 0, ...set(D),
    op.block, 0x40, // take
    op.block, 0x40, // skip
    ...get(D), ...get(CUT), op.i32LtU, op.brIf, 1,
    ...get(D), ...get(CUT), op.i32Ne, op.brIf, 0,
    ...get(AT_CUT), op.i32Eqz, op.brIf, 0,
    ...get(AT_CUT), op.i32Const, 1, op.i32Sub, ...set(AT_CUT),
    op.br, 1,
    op.end, // skip: next row
    ...addConst(R, 1),
    op.br, 1,
    op.end, // take: out[m++] = r, next row
    ...get(OUT), ...get(R), op.i32Store, 2, 0,
    ...addConst(OUT, 4),
    ...addConst(R, 1),
    op.br, 0,
    op.end,
    op.end,
    ...get(OUT), ...get(OUT0), op.i32Sub, op.i32Const, 2, op.i32ShrU,
    op.end,
  ];
  return [1, 3, I32, ...code];
}

function dotBody(): number[] {
  // params: 0 row, 1 q, 2 chunks; locals: 3 acc, 4 v (v128)
  const [ROW, Q, CHUNKS, ACC, V] = [0, 1, 2, 3, 4] as const;
  const code = [
    op.loop, 0x40,
    ...get(ROW), ...load128(0), ...set(V),
    ...get(ACC),
    ...get(V), ...simd.i16x8ExtendLowI8x16S, ...get(Q), ...load128(0), ...simd.i32x4DotI16x8S, ...simd.i32x4Add,
    ...get(V), ...simd.i16x8ExtendHighI8x16S, ...get(Q), ...load128(16), ...simd.i32x4DotI16x8S, ...simd.i32x4Add,
    ...set(ACC),
    ...addConst(ROW, 16),
    ...addConst(Q, 32),
    ...get(CHUNKS), op.i32Const, 1, op.i32Sub, op.localTee, CHUNKS, op.brIf, 0,
    op.end,
    ...laneSum(ACC),
    op.end,
  ];
  return [1, 2, V128, ...code];
}

function moduleBytes(): Uint8Array {
  const bodies = [scanBody(), pickBody(), dotBody()];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    // types: 0 (i32 x5) -> (), 1 (i32 x5) -> i32, 2 (i32 x3) -> i32
    ...section(1, [3, 0x60, 5, I32, I32, I32, I32, I32, 0, 0x60, 5, I32, I32, I32, I32, I32, 1, I32, 0x60, 3, I32, I32, I32, 1, I32]),
    ...section(2, [1, ...name("m"), ...name("mem"), 0x02, 0x00, 0x00]),
    ...section(3, [3, 0, 1, 2]),
    ...section(7, [3, ...name("scan"), 0x00, 0, ...name("pick"), 0x00, 1, ...name("dot"), 0x00, 2]),
    ...section(10, [bodies.length, ...bodies.flatMap((b) => [...uleb(b.length), ...b])]),
  ]);
}

let compiled: WasmModule | null | undefined;

/** The compiled kernels, or null where WebAssembly SIMD is unavailable (the index's `wasmKernels: false` skips them). */
export function kernelsModule(): WasmModule | null {
  if (compiled === undefined) {
    try {
      compiled = !wasm ? null : new wasm.Module(moduleBytes());
    } catch {
      compiled = null;
    }
  }
  return compiled;
}
