/**
 * DuckDB's memory allocator (the jemalloc built into its library) keeps pages it freed for up to a second before
 * giving them back (`dirty_decay_ms`), then keeps them mapped a second more (`muzzy_decay_ms`). While the
 * collector ingests, DuckDB frees and allocates all the time, so its freed pages never age out: measured with the
 * bench's store-memory row, ingesting 1M rows added ~110–150 MB to the process's RSS over the opened store, of which
 * the buffer pool held at most 39 MB after each commit; with both decays at 0, ~80 MB (the store's thread ingested
 * ~15% fewer rows per second, while it is not what bounds the collector).
 *
 * jemalloc reads its settings from the environment (`DUCKDB_JE_MALLOC_CONF` for DuckDB's copy) when DuckDB first
 * allocates, so they are set on the main thread before any thread opens the store. One already set is kept.
 */

/** DuckDB's jemalloc settings, unless the environment has its own. */
export const DUCKDB_ALLOCATOR_CONF = 'dirty_decay_ms:0,muzzy_decay_ms:0';

/** Sets DuckDB's allocator settings in the process's environment; call before DuckDB is first used. */
export function configureDuckdbAllocator(env: NodeJS.ProcessEnv = process.env): void {
  env.DUCKDB_JE_MALLOC_CONF ??= DUCKDB_ALLOCATOR_CONF;
}
