/**
 * The indexer DOUBLE refuses what an OpenSearch node refuses, so tests that find no refusal mean something:
 * a value that does not fit its mapped type, an unknown field under `dynamic: strict`, a second `create` of an
 * id, an external version not newer, a type conflicting with one mapped dynamically before.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startIndexerDouble, type IndexerDouble } from './indexer-double.js';
import { SHARED } from '../../testdata/shared.js';

let double: IndexerDouble;
before(async () => {
  double = await startIndexerDouble();
  await fetch(`${double.url}/_template/wazuh`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: readFileSync(`${SHARED}/reference/wazuh-ruleset/wazuh-template.json`) });
  await fetch(`${double.url}/_index_template/strict`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ index_patterns: ['strict-*'], template: { mappings: { dynamic: 'strict', properties: { n: { type: 'long' } } } } }) });
});
after(async () => double.close());

async function bulk(lines: object[]): Promise<{ status: number; error?: { type: string } }[]> {
  const res = await fetch(`${double.url}/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines.map((l) => JSON.stringify(l)).join('\n') + '\n' });
  const body = (await res.json()) as { items: Record<string, { status: number; error?: { type: string } }>[] };
  return body.items.map((i) => Object.values(i)[0]!);
}

for (const [name, index, doc, type] of [
  ["'-' in an ip field of Wazuh's template", 'wazuh-alerts-4.x-2025.01.01', { data: { aws: { srcaddr: '-' } } }, 'mapper_parsing_exception'],
  ['text in a date field', 'wazuh-alerts-4.x-2025.01.01', { timestamp: 'yesterday' }, 'mapper_parsing_exception'],
  ['a fraction in a long field', 'wazuh-alerts-4.x-2025.01.01', { rule: { level: 2.5 } }, 'mapper_parsing_exception'],
  ['an object where Wazuh maps a keyword', 'wazuh-alerts-4.x-2025.01.01', { rule: { id: { x: 1 } } }, 'mapper_parsing_exception'],
  ['an unknown field under dynamic: strict', 'strict-1', { n: 1, other: 'x' }, 'strict_dynamic_mapping_exception'],
] as const) {
  test(`refused with ${type}: ${name}`, async () => {
    const [r] = await bulk([{ create: { _index: index, _id: name } }, doc]);
    assert.equal(r?.status, 400);
    assert.equal(r?.error?.type, type);
  });
}

test('create of an existing id is a 409; external versions must grow; a dynamic type sticks', async () => {
  const r = await bulk([
    { create: { _index: 'strict-2', _id: 'a' } }, { n: 1 },
    { create: { _index: 'strict-2', _id: 'a' } }, { n: 2 },
    { index: { _index: 'free', _id: 'f', version: 5, version_type: 'external' } }, { v: 'x' },
    { index: { _index: 'free', _id: 'f', version: 5, version_type: 'external' } }, { v: 'y' },
    { index: { _index: 'free', _id: 'f', version: 6, version_type: 'external' } }, { v: 'z' },
    { index: { _index: 'free', _id: 'g' } }, { v: { nested: 1 } },
  ]);
  assert.deepEqual(r.map((x) => x.status), [201, 409, 201, 409, 200, 400]);
  assert.equal(double.docs('strict-2')[0]?.source.n, 1);
  assert.equal(double.docs('free').find((d) => d.id === 'f')?.source.v, 'z');
});
