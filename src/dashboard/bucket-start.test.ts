import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../store/index.js';
import { bucketStartMs } from './queries.js';

test('bucketStartMs gives the buckets time_bucket gives, for every chart width, weeks starting on Monday', async () => {
  const store = await openStore(mkdtempSync(join(tmpdir(), 'tld-bucket-')), { flowRetentionDays: 0, alertRetentionDays: 0 });
  try {
    const times = `SELECT unnest([TIMESTAMP '1970-01-01', TIMESTAMP '1999-12-31 23:59:59.999999', TIMESTAMP '2000-01-03', TIMESTAMP '2025-06-26 13:37:59.5',
        TIMESTAMP '2026-11-28 05:00:00', TIMESTAMP '1962-01-01 00:00:01']) x UNION ALL SELECT TIMESTAMP '2025-06-01' + to_seconds(i * 4801) FROM range(2000) t(i)`;
    for (const seconds of [60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 7 * 86_400]) {
      const [r] = await store.query(`SELECT count(*) FILTER (WHERE epoch_ms(time_bucket(to_seconds($1::BIGINT), x)) <> ${bucketStartMs('x', '$1')})::INTEGER AS differ, count(*)::INTEGER AS n FROM (${times})`, [seconds]);
      assert.deepEqual(r, { differ: 0, n: 2006 }, `${seconds} s buckets`);
    }
    // a week's bucket starts on a Monday (2025-06-23 for a Thursday)
    const [w] = await store.query(`SELECT ${bucketStartMs("TIMESTAMP '2025-06-26 10:00:00'", '$1')} AS t`, [7 * 86_400]);
    assert.equal(Number(w!.t), Date.UTC(2025, 5, 23));
  } finally {
    await store.close();
  }
});
