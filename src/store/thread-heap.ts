/**
 * The old-generation bound of the embedded store's thread (threaded-store.ts), in its own module so that `tld`'s main
 * thread can check `TLD_STORE_HEAP_MB` before anything starts without loading the store.
 *
 * What the thread allocates is short-lived (each batch's rows, until appended; a dashboard query's rows), and under
 * V8's default bound (a quarter of the machine's memory, up to 4 GB) V8 let its garbage pile up before collecting
 * it: ~60 MB of heap with small objects, of which 9–17 MB live. At 256 MB (over ten times what it holds live: rows in
 * flight are bounded by threaded-store's MAX_INFLIGHT_BYTES, the dashboard's results by their LIMITs) the
 * 20,000-small-object bench row peaked at 268–273 MB against 282–289, at the same objects per second (side by side),
 * and a million small objects at 353 MB against 403. A thread that needs more dies with an error naming
 * TLD_STORE_HEAP_MB: nothing unsaved is marked processed.
 */
export const STORE_THREAD_HEAP_MB = 256;

/** The store thread's old-generation bound in MB: `TLD_STORE_HEAP_MB`, else STORE_THREAD_HEAP_MB; at least 64. */
export function storeThreadHeapMb(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.TLD_STORE_HEAP_MB;
  if (raw === undefined || raw === '') return STORE_THREAD_HEAP_MB;
  const mb = Number(raw);
  if (!Number.isInteger(mb) || mb < 64) throw new Error(`TLD_STORE_HEAP_MB must be a whole number of MB of at least 64, not "${raw}"`);
  return mb;
}
