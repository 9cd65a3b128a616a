/** Documents and `_bulk` lines: log text is always escaped (it is attacker-controlled), ids and index days are fixed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bulkLines, daySuffix, itemsOf, severityLabel } from './documents.js';
import { storeRowsOf } from '../store/store-rows.js';
import type { EventBatch } from '../shared/events.js';

const logInfo = { aws_account_alias: '', log_file: 'k', s3bucket: 'b' };

test('an id or field holding quotes, newlines or a second bulk action stays one escaped value on its line', () => {
  const hostile = 'x"},"_index":"other"}}\n{"delete":{"_index":"wazuh-alerts-4.x-2025.01.01","_id":"1';
  const lines = bulkLines({ index: 'tld-guardduty-findings', id: hostile, op: 'index', version: 7, source: JSON.stringify({ id: hostile }), objectId: 'o' });
  const parts = lines.split('\n');
  assert.equal(parts.length, 3, 'two lines and the final newline');
  assert.deepEqual(JSON.parse(parts[0]!), { index: { _index: 'tld-guardduty-findings', _id: hostile, version: 7, version_type: 'external' } });
  assert.deepEqual(JSON.parse(parts[1]!), { id: hostile });
});

test("a flow's non-address text goes to its keyword field, escaped; addresses stay ip; days follow each record's start", () => {
  const batch: EventBatch = {
    object: { bucket: 'b', key: 'k', objectId: '00000000000000aa', bucketType: 'vpcflow', size: 1, lastModified: new Date('2025-06-27T08:00:00Z') },
    firstIndex: 7,
    events: [
      { integration: 'aws', aws: { log_info: logInfo, source: 'vpc', srcaddr: '<img src=x>"', dstaddr: '2001:db8::2', start: '2025-06-26T23:59:59Z', end: '2025-06-27T00:00:30Z', action: 'REJECT', log_status: 'OK', interface_id: 'eni-"1' } },
      { integration: 'aws', aws: { log_info: logInfo, source: 'vpc', srcaddr: '10.0.0.1', dstaddr: '-', log_status: 'NODATA' } },
    ],
  };
  const items = itemsOf(storeRowsOf(batch, []));
  assert.deepEqual(items.map((i) => [i.index, i.id]), [['tld-flows-2025.06.26', '00000000000000aa-7'], ['tld-flows-2025.06.27', '00000000000000aa-8']], 'a record without a time falls on its object\'s day');
  const [a, b] = items.map((i) => JSON.parse(i.source) as Record<string, unknown>);
  assert.equal(a?.src_text, '<img src=x>"');
  assert.equal(a?.srcaddr, undefined);
  assert.equal(a?.dstaddr, '2001:db8::2');
  assert.equal(a?.interface_id, 'eni-"1');
  assert.equal(b?.srcaddr, '10.0.0.1');
  assert.equal(b?.dst_text, '-');
  assert.equal(b?.['@timestamp'], null);
});

test('severity bands and day suffixes', () => {
  assert.deepEqual([1, 3.9, 4, 6.9, 7, 8.9, 9, 10].map(severityLabel), ['Low', 'Low', 'Medium', 'Medium', 'High', 'High', 'Critical', 'Critical']);
  assert.equal(daySuffix(Date.parse('2025-01-09T23:59:59.999Z')), '2025.01.09');
});
