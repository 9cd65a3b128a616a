/**
 * The shipped ruleset's side-car cases (tests/0350-amazon_rules.cases.json), built from the real samples:
 * every rule has at least one positive and one negative case, and each case holds. A case with `"lists": "wazuh"`
 * runs with Wazuh 4.14's own aws-eventnames list in place of the shipped one (as a Wazuh user's list replaces it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AwsEvent, Alert } from '../../shared/events.js';
import { decodeBuffer } from '../../decoders/index.js';
import { createAnalyzer, loadRuleset } from '../index.js';
import { rawField } from '../fields.js';
import { wazuhReference } from '../../../testdata/wazuh-reference.js';

const SAMPLES = new URL('../../../testdata/aws-log-samples/', import.meta.url).pathname;
type Json = Record<string, unknown>;
interface Source { sample?: string; type?: string; event?: AwsEvent; select?: Json; set?: Json }
interface Case extends Source {
  name: string;
  lists?: 'wazuh';
  expect?: string | null;
  absent?: string[];
  chain?: string[];
  description?: string;
  alerted?: boolean;
  sequence?: Source & { count: number };
  alerts?: Record<string, number>;
  absent_alerts?: string[];
}

const cases = JSON.parse(readFileSync(new URL('./tests/0350-amazon_rules.cases.json', import.meta.url), 'utf8')) as Case[];
const ruleset = await loadRuleset({ ruleDirs: [], ruleFiles: [], lists: [], ruleExcludes: [] });
const withWazuhList = await loadRuleset({ ruleDirs: [], ruleFiles: [], lists: [join(wazuhReference(), 'lists/amazon/aws-eventnames')], ruleExcludes: [] });

function setPath(obj: Json, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let o = obj;
  for (const p of parts.slice(0, -1)) o = (o[p] ??= {}) as Json;
  o[parts[parts.length - 1] as string] = value;
}

function baseEvent(src: Source): AwsEvent {
  if (src.event) return structuredClone(src.event);
  const events = decodeBuffer(readFileSync(SAMPLES + src.sample), { bucketType: src.type as never, logInfo: { aws_account_alias: '', log_file: src.sample ?? '', s3bucket: 'test' } }) as AwsEvent[];
  const found = events.find((e) => Object.entries(src.select ?? {}).every(([k, v]) => rawField(e, k.split('.')) === v));
  assert.ok(found, `no event of ${src.sample} matches ${JSON.stringify(src.select)}`);
  return structuredClone(found);
}

function apply(event: AwsEvent, set: Json | undefined, i: number): AwsEvent {
  const e = structuredClone(event);
  for (const [k, v] of Object.entries(set ?? {})) {
    let value = v;
    if (v === '$i') value = i + 1;
    else if (typeof v === 'string' && v.startsWith('$time:')) {
      const [start, step] = v.slice(6).split('+');
      value = new Date(Date.parse(start as string) + i * Number(step) * 1000).toISOString().replace('.000', '');
    }
    setPath(e as unknown as Json, k, value);
  }
  return e;
}

const positives = new Set<string>();
const negatives = new Set<string>();

for (const c of cases) {
  test(c.name, () => {
    const analyzer = createAnalyzer(c.lists === 'wazuh' ? withWazuhList : ruleset, { logAlertLevel: 3, now: () => new Date('2026-01-01T00:00:00Z') });
    if (c.sequence) {
      const base = baseEvent(c.sequence);
      const emitted: Alert[] = [];
      const events = Array.from({ length: c.sequence.count }, (_, i) => apply(base, c.sequence?.set, i));
      analyzer.analyze({ object: { bucket: 'b', key: 'k', objectId: 'o', bucketType: 'vpcflow', size: 0 }, firstIndex: 0, events }, (a) => emitted.push(a));
      const counts: Record<string, number> = {};
      for (const a of emitted) counts[a.rule.id] = (counts[a.rule.id] ?? 0) + 1;
      assert.deepEqual(counts, c.alerts ?? {});
      for (const id of Object.keys(c.alerts ?? {})) positives.add(id);
      for (const id of c.absent_alerts ?? []) negatives.add(id);
      for (const a of emitted.filter((x) => x.correlation)) assert.match(a.rule.description, /\d/);
      return;
    }
    const event = apply(baseEvent(c), c.set, 0);
    const x = analyzer.explain(event);
    assert.equal(x.rule?.id ?? null, c.expect ?? null, `chain ${x.chain.join(' > ')}`);
    for (const id of c.absent ?? []) assert.notEqual(x.rule?.id, id, `${id} must not be the match`);
    if (c.chain) for (const id of c.chain) assert.ok(x.chain.includes(id), `${id} in ${x.chain.join('>')}`);
    if (c.description) assert.ok(x.rule?.description.includes(c.description), x.rule?.description);
    if (c.alerted !== undefined) assert.equal(x.alert !== undefined, c.alerted, x.noAlert);
    if (c.expect) positives.add(c.expect);
    for (const id of c.absent ?? []) negatives.add(id);
  });
}

test('every shipped rule has at least one positive and one negative case', () => {
  const ids = [...ruleset.rules.keys()];
  assert.deepEqual(ids.filter((id) => !positives.has(id)), [], 'rules without a positive case');
  assert.deepEqual(ids.filter((id) => !negatives.has(id)), [], 'rules without a negative case');
});
