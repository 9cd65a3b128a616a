import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyFilter } from './key-filter.js';

const key = (i: number) => `AWSLogs/111111111111/vpcflowlogs/us-east-1/2025/06/${String(1 + (i % 28)).padStart(2, '0')}/111111111111_vpcflowlogs_us-east-1_fl-0a_${i}.log.gz`;

test('every key added is "maybe"; keys never added are "certainly not" but for a few false positives', () => {
  const f = new KeyFilter(100_000);
  for (let i = 0; i < 100_000; i++) f.add(key(i));
  for (let i = 0; i < 100_000; i++) assert.ok(f.mayHave(key(i)), key(i));
  let positives = 0;
  for (let i = 100_000; i < 200_000; i++) if (f.mayHave(key(i))) positives++;
  // sized for twice the keys: well under 1% of the keys never added are answered "maybe"
  assert.ok(positives < 1000, `${positives} false positives in 100,000`);
  assert.equal(f.full, false);
});

test('past its capacity it says so (its owner builds a larger one), and still never forgets a key', () => {
  const f = new KeyFilter(0);
  for (let i = 0; i <= f.capacity; i++) f.add(key(i));
  assert.equal(f.full, true);
  for (let i = 0; i <= f.capacity; i++) assert.ok(f.mayHave(key(i)));
});
