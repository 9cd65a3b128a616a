/**
 * `tld` gives DuckDB's allocator its settings through the environment (allocator.ts): the main thread sets them
 * at start, and DuckDB, loaded later on the store's thread, reads them. A setting the user made is kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { DUCKDB_ALLOCATOR_CONF, configureDuckdbAllocator } from './allocator.js';

test('the default is set when the environment has none; a setting of the user is kept', () => {
  const env: NodeJS.ProcessEnv = {};
  configureDuckdbAllocator(env);
  assert.equal(env.DUCKDB_JE_MALLOC_CONF, DUCKDB_ALLOCATOR_CONF);
  const own: NodeJS.ProcessEnv = { DUCKDB_JE_MALLOC_CONF: 'dirty_decay_ms:5000' };
  configureDuckdbAllocator(own);
  assert.equal(own.DUCKDB_JE_MALLOC_CONF, 'dirty_decay_ms:5000');
});

test('a setting made at run time on the main thread reaches DuckDB opened on the store thread', async () => {
  // an option jemalloc does not know makes it complain on stderr when it reads its settings: proof it read ours
  const script = `
    process.env.DUCKDB_JE_MALLOC_CONF = 'not_an_option:1';
    const { ThreadedStore } = await import(${JSON.stringify(new URL('./threaded-store.ts', import.meta.url).href)});
    const { mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const store = await ThreadedStore.open(mkdtempSync(join(tmpdir(), 'tld-allocator-')), { flowRetentionDays: 0, alertRetentionDays: 0, memoryLimitMb: 64 });
    await store.close();
  `;
  const env = { ...process.env };
  delete env.DUCKDB_JE_MALLOC_CONF;
  const stderr = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env }, (e, _out, err) => (e ? reject(new Error(`${e.message}: ${err}`)) : resolve(err))),
  );
  assert.match(stderr, /<jemalloc>: Invalid conf pair: not_an_option:1/);
});
