/**
 * A set of 64-bit hashes, stored as pairs of 32-bit words in one typed array (open addressing, linear probing).
 * It costs 8 bytes per slot, 11–23 bytes per member at the load factors used (0.35–0.7), against roughly 80 bytes
 * per member for a `Set<string>` of hex strings; lookups allocate nothing.
 *
 * The members are hashes of S3 keys, so their low word is uniformly spread and serves directly as the slot index.
 * The all-zero value marks an empty slot; a member equal to zero is stored as 1 (one more way for two keys to
 * share a hash, which does not change the odds measurably).
 */

const MAX_LOAD = 0.7;
const MIN_CAPACITY = 16;

function capacityFor(members: number): number {
  let cap = MIN_CAPACITY;
  while (cap * MAX_LOAD < members) cap *= 2;
  return cap;
}

export class HashSet64 {
  /** [hi0, lo0, hi1, lo1, …]; a slot is empty when both words are 0 */
  #slots: Uint32Array;
  #mask: number;
  #size = 0;

  constructor(expectedMembers = 0) {
    const cap = capacityFor(expectedMembers);
    this.#slots = new Uint32Array(cap * 2);
    this.#mask = cap - 1;
  }

  /** Builds a set from `toBytes()` output (8 bytes per member, big-endian high word first). */
  static fromBytes(bytes: Uint8Array): HashSet64 {
    if (bytes.length % 8 !== 0) throw new RangeError(`hash list of ${bytes.length} bytes is not a multiple of 8`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const set = new HashSet64(bytes.length / 8);
    for (let i = 0; i < bytes.length; i += 8) set.add(view.getUint32(i), view.getUint32(i + 4));
    return set;
  }

  get size(): number {
    return this.#size;
  }

  /** Adds the hash `hi:lo`; returns false when it was already there. */
  add(hi: number, lo: number): boolean {
    if ((hi | lo) === 0) lo = 1;
    hi >>>= 0;
    lo >>>= 0;
    if (this.#size + 1 > (this.#mask + 1) * MAX_LOAD) this.#grow();
    const slots = this.#slots;
    let i = lo & this.#mask;
    for (;;) {
      const h = slots[2 * i] as number;
      const l = slots[2 * i + 1] as number;
      if ((h | l) === 0) {
        slots[2 * i] = hi;
        slots[2 * i + 1] = lo;
        this.#size++;
        return true;
      }
      if (h === hi && l === lo) return false;
      i = (i + 1) & this.#mask;
    }
  }

  /** True when the hash `hi:lo` is a member. */
  has(hi: number, lo: number): boolean {
    if ((hi | lo) === 0) lo = 1;
    hi >>>= 0;
    lo >>>= 0;
    const slots = this.#slots;
    let i = lo & this.#mask;
    for (;;) {
      const h = slots[2 * i] as number;
      const l = slots[2 * i + 1] as number;
      if ((h | l) === 0) return false;
      if (h === hi && l === lo) return true;
      i = (i + 1) & this.#mask;
    }
  }

  /** The members, 8 bytes each (big-endian high word, then low word), in slot order. */
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.#size * 8);
    const view = new DataView(out.buffer);
    const slots = this.#slots;
    let o = 0;
    for (let i = 0; i < slots.length; i += 2) {
      const h = slots[i] as number;
      const l = slots[i + 1] as number;
      if ((h | l) === 0) continue;
      view.setUint32(o, h);
      view.setUint32(o + 4, l);
      o += 8;
    }
    return out;
  }

  /** Bytes held by the table (for metrics). */
  get byteLength(): number {
    return this.#slots.byteLength;
  }

  #grow(): void {
    const old = this.#slots;
    const cap = (this.#mask + 1) * 2;
    this.#slots = new Uint32Array(cap * 2);
    this.#mask = cap - 1;
    this.#size = 0;
    for (let i = 0; i < old.length; i += 2) {
      const h = old[i] as number;
      const l = old[i + 1] as number;
      if ((h | l) !== 0) this.add(h, l);
    }
  }
}
