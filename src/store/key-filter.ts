/**
 * A Bloom filter of the object keys that have a health row: "certainly never read" answered without asking DuckDB.
 * Asking it (a query parsed, planned and run for every object, in the writer's thread and DuckDB's threads) was a
 * fifth of all the CPU spent per small object. A "maybe" still asks the table, so a false positive costs one query
 * and nothing is ever wrongly taken for new. Keys are only added (a health row deleted by retention stays "maybe").
 */
const HASHES = 7;
/** bits per key of capacity: ~0.1% false positives at capacity with 7 hashes */
const BITS_PER_KEY = 16;
const MIN_CAPACITY = 1 << 16;

export class KeyFilter {
  readonly #bits: Uint32Array;
  /** bit count - 1 (a power of two) */
  readonly #mask: number;
  readonly capacity: number;
  #count = 0;

  constructor(keys: number) {
    this.capacity = Math.max(MIN_CAPACITY, keys * 2);
    let size = 1;
    while (size < this.capacity * BITS_PER_KEY) size *= 2;
    this.#bits = new Uint32Array(size / 32);
    this.#mask = size - 1;
  }

  /** more keys than it was sized for: false positives grow; the owner builds a larger one */
  get full(): boolean {
    return this.#count > this.capacity;
  }

  add(key: string): void {
    const [h1, h2] = hashes(key);
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.#mask;
      this.#bits[bit >>> 5]! |= 1 << (bit & 31);
    }
    this.#count++;
  }

  mayHave(key: string): boolean {
    const [h1, h2] = hashes(key);
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.#mask;
      if ((this.#bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/** Two independent 32-bit FNV-1a hashes of the key's UTF-16 code units (the second odd, so the probes differ). */
function hashes(key: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return [a >>> 0, (b | 1) >>> 0];
}
