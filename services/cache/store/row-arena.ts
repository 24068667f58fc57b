import { CODE_BITS, CODE_WORDS } from "./hamming-scan.ts";
import { kernelsModule, wasm, type Kernels, type WasmApi, type WasmModule } from "./wasm-kernels.ts";

const PAGE = 65536;
/** Most rows one lookup may re-rank through the arena (more falls back to the JavaScript kernels). */
export const PICK_MAX = 4096;
/** Largest int16 query component: 612 products of 127 * 16,383 stay below 2^31. */
const Q16_MAX = 16383;

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/** Whether this process has run the kernels once (see RowArena.warmUp). */
let warmed = false;

/**
 * A large compact partition's int8 rows and sign codes in one WebAssembly memory, with the scratch of
 * the kernels in wasm-kernels.ts: the query's code and int16 form, the distance histogram, the picked
 * rows, then `capacity` codes, `capacity` rows (+16 bytes the dot may over-read), `capacity` distances.
 * Fixed capacity: a partition that outgrows it makes a bigger arena and copies over, as it does with
 * its plain arrays. `codes` and `rows` are views the partition reads and writes like plain arrays.
 */
export class RowArena {
  readonly codes: Int32Array;
  readonly rows: Int8Array;
  /** The query's sign code, written by the caller before `scan`. */
  readonly q: Int32Array;
  readonly hist: Uint32Array;
  readonly dist: Uint16Array;
  readonly picked: Int32Array;
  private readonly q16: Int16Array;
  private readonly k: Kernels;
  private readonly chunks: number;
  private readonly at: { q: number; hist: number; q16: number; picked: number; codes: number; rows: number; dist: number };

  private constructor(api: WasmApi, module: WasmModule, readonly dim: number, readonly capacity: number) {
    this.chunks = Math.ceil(dim / 16);
    const q = 0;
    const hist = 64;
    const q16 = align16(hist + (CODE_BITS + 1) * 4);
    const picked = align16(q16 + this.chunks * 32);
    const codes = align16(picked + PICK_MAX * 4);
    const rows = align16(codes + capacity * CODE_WORDS * 4);
    const dist = align16(rows + capacity * dim + 16);
    this.at = { q, hist, q16, picked, codes, rows, dist };
    const memory = new api.Memory({ initial: Math.ceil((dist + capacity * 2) / PAGE) });
    this.k = new api.Instance(module, { m: { mem: memory } }).exports as unknown as Kernels;
    const buf = memory.buffer;
    this.q = new Int32Array(buf, q, CODE_WORDS);
    this.hist = new Uint32Array(buf, hist, CODE_BITS + 1);
    this.q16 = new Int16Array(buf, q16, this.chunks * 16);
    this.picked = new Int32Array(buf, picked, PICK_MAX);
    this.codes = new Int32Array(buf, codes, capacity * CODE_WORDS);
    this.rows = new Int8Array(buf, rows, capacity * dim);
    this.dist = new Uint16Array(buf, dist, capacity);
  }

  /** An arena for `capacity` rows, or undefined where the WebAssembly kernels cannot run here. */
  static create(dim: number, capacity: number): RowArena | undefined {
    const module = kernelsModule();
    if (!module || !wasm) return undefined;
    let arena: RowArena;
    try {
      arena = new RowArena(wasm, module, dim, capacity);
    } catch {
      // No memory for one more WebAssembly instance: the caller keeps plain arrays and the JS kernels.
      return undefined;
    }
    if (!warmed) {
      warmed = true;
      arena.warmUp();
    }
    return arena;
  }

  /**
   * Runs each kernel over the whole (still mostly empty) arena a few times, once per process: V8
   * compiles WebAssembly functions on first call and re-compiles hot ones with its optimising tier,
   * ~5-10 ms of CPU in all, which would otherwise land on the first lookups of the first large
   * partition (an insert pays it instead, off the request path). Touches only scratch regions.
   */
  private warmUp(): void {
    const zero = new Float32Array(this.dim);
    for (let i = 0; i < 8; i++) {
      this.scan(this.capacity);
      this.pick(this.capacity, 0, 0);
      this.setQuery(zero);
      for (let r = 0; r < Math.min(256, this.capacity); r++) this.dot(r);
    }
  }

  /** Distances of rows [0, n) to the code in `q` into `dist`, and their histogram (from zero) into `hist`. */
  scan(n: number): void {
    this.hist.fill(0);
    this.k.scan(this.at.codes, n, this.at.q, this.at.dist, this.at.hist);
  }

  /**
   * Rows with distance < cut, then the first `atCut` at cut, into `picked`; returns how many. The caller
   * takes cut and atCut from the histogram for at most PICK_MAX rows (`picked` is that long).
   */
  pick(n: number, cut: number, atCut: number): number {
    return this.k.pick(this.at.dist, n, cut, atCut, this.at.picked);
  }

  /** Sets the float query for `dot`, as int16 scaled by its largest component; returns that scale. */
  setQuery(v: Float32Array): number {
    let max = 0;
    for (let i = 0; i < this.dim; i++) max = Math.max(max, Math.abs(v[i] as number));
    const inv = max > 0 ? Q16_MAX / max : 0;
    // Components past dim stay zero: the dot reads whole blocks of 16.
    for (let i = 0; i < this.dim; i++) this.q16[i] = Math.round((v[i] as number) * inv);
    return max / Q16_MAX;
  }

  /** Integer dot product of row `row` with the query set by `setQuery` (times both scales: the cosine). */
  dot(row: number): number {
    return this.k.dot(this.at.rows + row * this.dim, this.at.q16, this.chunks);
  }
}
