// Fast non-cryptographic hashing and a seeded PRNG: everything the simulator "decides" derives from these,
// so the same request always yields the same answer.

/** cyrb53: 53-bit string hash, good spread, no allocation. */
export function hashString(str: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < str.length; i++) {
    const ch = str.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** Combines two hashes order-dependently (used to chain prompt prefixes); arithmetic only, no allocation. */
export function combineHash(a: number, b: number): number {
  const aLo = a >>> 0;
  const aHi = Math.floor(a / 4294967296) >>> 0;
  const bLo = b >>> 0;
  const bHi = Math.floor(b / 4294967296) >>> 0;
  let h1 = Math.imul(aLo ^ 0xdeadbeef, 2654435761) ^ bLo;
  h1 = Math.imul(h1 ^ (h1 >>> 15), 2246822507) ^ bHi;
  let h2 = Math.imul(aHi ^ 0x41c6ce57, 1597334677) ^ bHi;
  h2 = Math.imul(h2 ^ (h2 >>> 13), 3266489909) ^ bLo;
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
