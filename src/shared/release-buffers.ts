/**
 * Gives an ArrayBuffer's memory back now, instead of at the garbage collection that finds it unreachable.
 *
 * A batch's buffers outlive V8's young generation while they wait their turn (objects are consumed in key order,
 * rows wait for the store's thread), so they are freed only by a full collection; V8 starts one for outside
 * memory only after ~64 MB more of it, so each thread held tens of MB of buffers nothing read any more (the store's
 * thread 65 MB with 100k-record objects). Releasing a buffer detaches it: every view over it reads as empty.
 * Only for buffers this code allocated for one batch and that nothing reads afterwards; never for a Buffer's
 * shared pool (a small Buffer.from or allocUnsafe), which other Buffers read.
 */
export function releaseBuffers(buffers: Iterable<ArrayBuffer>): void {
  for (const b of buffers) {
    if (b.byteLength === 0) continue; // empty or already detached
    // Node 22: detaches and frees at once; Node 20 has no `transfer`: the memory moves to a young buffer that
    // nothing references, freed at the next scavenge
    const transfer = (b as { transfer?: (length: number) => ArrayBuffer }).transfer;
    if (transfer) transfer.call(b, 0);
    else structuredClone(b, { transfer: [b] });
  }
}
