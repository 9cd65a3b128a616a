import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alert, AwsEvent } from '../shared/events.js';
import { createAnalyzer, loadRuleset, RuleLoadError } from './index.js';
import { compileOsMatch, compileOsRegex } from './osregex.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'tld-rules-'));
const ev = (aws: Record<string, unknown>): AwsEvent => ({ integration: 'aws', aws: { log_info: { aws_account_alias: '', log_file: 'k', s3bucket: 'b' }, ...aws } });
const none = { ruleDirs: [], ruleFiles: [], lists: [], ruleExcludes: [] };
/** the records of one object (an object id with its record indexes identifies a record: each object once) */
const batch = (events: AwsEvent[], objectId = 'obj') => ({ object: { bucket: 'b', key: 'k', objectId, bucketType: 'cloudtrail' as const, size: 0 }, firstIndex: 0, events });

test('OS_Regex: \\d \\w \\s classes, \\. any char, plain dot literal, anchors and alternatives', () => {
  assert.ok(compileOsRegex('^\\d+\\.\\d+$').test('12x34'));
  assert.ok(!compileOsRegex('^1.2$').test('1x2'), 'a plain dot is literal');
  assert.ok(compileOsRegex('^1.2$').test('1.2'));
  assert.ok(compileOsRegex('^\\w+@\\w+$').test('a-b_c@host'));
  assert.ok(compileOsRegex('ACCEPT|REJECT').test('xREJECTx'), 'unanchored');
  assert.ok(compileOsMatch('^Console|Login$').test('consolefoo'), 'match is case-insensitive');
  assert.ok(!compileOsMatch('^Login').test('ConsoleLogin'));
});

test('a user rule folder adds rules and overrides a shipped one with overwrite="yes"; a list from the config is used', async () => {
  const dir = tmp();
  mkdirSync(join(dir, 'rules'));
  writeFileSync(join(dir, 'bad-ips'), '198.51.100.:attackers\n203.0.113.50:scanner\n');
  writeFileSync(join(dir, 'rules', 'local.xml'), `<group name="local,">
  <rule id="80401" level="3" overwrite="yes">
    <if_sid>80400</if_sid>
    <field name="aws.action">^ACCEPT$</field>
    <description>Accepted flow $(aws.srcaddr) (Wazuh behaviour: written to alerts.json).</description>
  </rule>
  <rule id="100100" level="12">
    <if_sid>80401,80402</if_sid>
    <list field="aws.srcaddr" lookup="address_match_key">bad-ips</list>
    <description>Flow from a listed address $(aws.srcaddr)</description>
  </rule>
</group>`);
  const rs = await loadRuleset({ ...none, ruleDirs: [join(dir, 'rules')], lists: [join(dir, 'bad-ips')] });
  const a = createAnalyzer(rs, { logAlertLevel: 3 });
  const out: Alert[] = [];
  a.analyze(batch([ev({ source: 'vpc', action: 'ACCEPT', srcaddr: '10.0.0.1' }), ev({ source: 'vpc', action: 'REJECT', srcaddr: '198.51.100.23' }), ev({ source: 'vpc', action: 'REJECT', srcaddr: '10.0.0.9' })]), (x) => out.push(x));
  assert.deepEqual(out.map((x) => [x.rule.id, x.rule.description]), [
    ['80401', 'Accepted flow 10.0.0.1 (Wazuh behaviour: written to alerts.json).'],
    ['100100', 'Flow from a listed address 198.51.100.23'],
  ]);
  assert.equal(out[0]?.id, 'obj-0-80401', 'the alert id derives from the record');
  assert.deepEqual(out[1]?.rule.groups, ['local']);
});

test('alerts: level below log_alert_level, level 0 and no_log are not written; firedtimes counts', async () => {
  const rs = await loadRuleset(none);
  const a = createAnalyzer(rs, { logAlertLevel: 5 });
  const out: Alert[] = [];
  const ct = (extra: Record<string, unknown>) => ev({ source: 'cloudtrail', eventSource: 'ec2.amazonaws.com', ...extra });
  a.analyze(batch([ct({ eventName: 'StartInstances' }), ct({ eventName: 'CreateVpc', errorCode: 'Client.UnauthorizedOperation' }), ct({ eventName: 'CreateVpc', errorCode: 'Client.UnauthorizedOperation' })]), (x) => out.push(x));
  // a denied CreateVpc is the shipped 80611, which alerts under Wazuh's 80203 (alert_id); firedtimes counts per rule
  assert.deepEqual(out.map((x) => [x.rule.id, x.rule.firedtimes, x.rule.description.startsWith('AWS unauthorized VPC creation attempt')]), [['80203', 1, true], ['80203', 2, true]]);
  assert.equal(out[0]?.decoder.name, 'json');
  assert.equal(out[0]?.location, 'Wazuh-AWS');
  assert.equal(out[0]?.full_log, undefined, 'no_full_log');
});

test('broken rule files are refused with file, line and rule id, all problems at once', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'broken.xml'), `<group name="x,">
  <rule id="100200" level="20">
    <if_sid>99999999</if_sid>
    <field name="aws.a">\\</field>
    <description>bad</description>
  </rule>
  <rule id="80200" level="3">
    <description>duplicate id without overwrite</description>
  </rule>
  <rule id="100201" level="3" frequency="5">
    <list field="aws.x">no-such-list</list>
  </rule>
</group>`);
  await assert.rejects(loadRuleset({ ...none, ruleFiles: [join(dir, 'broken.xml')] }), (e: unknown) => {
    assert.ok(e instanceof RuleLoadError);
    const text = e.problems.join('\n');
    assert.match(text, /broken\.xml:2: rule 100200: the level attribute must be 0–16/);
    assert.match(text, /broken\.xml:4: rule 100200: pattern ends with a lone backslash/);
    assert.match(text, /broken\.xml:7: rule 80200: id already used at .*0350-amazon_rules\.xml/);
    assert.match(text, /broken\.xml:10: rule 100201: frequency needs timeframe/);
    assert.match(text, /broken\.xml:10: rule 100201: missing <description>/);
    assert.match(text, /broken\.xml:11: rule 100201: list 'no-such-list' is not loaded/);
    // a rule with an element that cannot apply is left out (its parent is not looked for), the others load
    assert.match(text, /rule 100200 skipped; the other rules are loaded/);
    return true;
  });
});

test('correlation state is bounded per rule and keyed by same_field values', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'r.xml'), `<group name="t,">
  <rule id="100300" level="3"><if_sid>80200</if_sid><field name="aws.source">^t$</field><description>t</description><options>no_log</options></rule>
  <rule id="100301" level="9" frequency="3" timeframe="60"><if_matched_sid>100300</if_matched_sid><same_field>aws.user</same_field><description>3 from $(aws.user)</description></rule>
</group>`);
  const rs = await loadRuleset({ ...none, ruleFiles: [join(dir, 'r.xml')] });
  const a = createAnalyzer(rs, { logAlertLevel: 3, maxKeysPerRule: 10, now: () => new Date('2026-01-01T00:00:00Z') });
  const out: Alert[] = [];
  const events = ['a', 'b', 'a', 'b', 'a'].map((user) => ev({ source: 't', user }));
  a.analyze(batch(events), (x) => out.push(x));
  assert.deepEqual(out.map((x) => x.rule.description), ['3 from a'], 'a reached 3, b only 2');
  // 1000 distinct users: only the 10 most recent windows are kept, so the early ones never fire
  const many = Array.from({ length: 1000 }, (_, i) => ev({ source: 't', user: `u${i}` }));
  a.analyze(batch([...many, ...many.slice(0, 2), ...many.slice(0, 2)], 'obj2'), (x) => out.push(x));
  assert.equal(out.length, 1);
});

test('a reload keeps the correlation windows of rules that still exist unchanged', async () => {
  const dir = tmp();
  const file = join(dir, 'r.xml');
  const rules = (frequency: number) => `<group name="t,">
  <rule id="100300" level="3"><if_sid>80200</if_sid><field name="aws.source">^t$</field><description>t</description><options>no_log</options></rule>
  <rule id="100301" level="9" frequency="${frequency}" timeframe="60"><if_matched_sid>100300</if_matched_sid><same_field>aws.user</same_field><description>${frequency} from $(aws.user)</description></rule>
</group>`;
  writeFileSync(file, rules(3));
  const now = () => new Date('2026-01-01T00:00:00Z');
  const before = createAnalyzer(await loadRuleset({ ...none, ruleFiles: [file] }), { logAlertLevel: 3, now });
  const out: Alert[] = [];
  const two = [ev({ source: 't', user: 'a' }), ev({ source: 't', user: 'a' })];
  before.analyze(batch(two), (x) => out.push(x));
  const after = createAnalyzer(await loadRuleset({ ...none, ruleFiles: [file] }), { logAlertLevel: 3, now });
  after.adoptState(before);
  after.analyze(batch([ev({ source: 't', user: 'a' })], 'obj2'), (x) => out.push(x));
  assert.deepEqual(out.map((x) => x.rule.description), ['3 from a'], 'the third occurrence after the reload completes the window');
  writeFileSync(file, rules(4));
  const changed = createAnalyzer(await loadRuleset({ ...none, ruleFiles: [file] }), { logAlertLevel: 3, now });
  changed.adoptState(after);
  changed.analyze(batch([...two, ev({ source: 't', user: 'b' })], 'obj3'), (x) => out.push(x));
  assert.equal(out.length, 1, 'a rule whose frequency changed starts with fresh windows');
});
