/**
 * Wazuh's rule language as analysisd evaluates it for events the `json` decoder decoded (issue 14, items 4 and
 * 5), one case per element and semantic. Each comment names what was checked in wazuh/wazuh's sources (4.x):
 * src/analysisd/rules.c (Rules_OP_ReadRules: syntax, default pattern types; OS_CheckIfRuleMatch: evaluation),
 * src/analysisd/rules_list.c (_OS_AddRule, OS_AddChild: the tree), src/analysisd/eventinfo.c (Search_LastSids:
 * frequency), src/analysisd/decoders/plugins/json_decoder.c (fillData: static fields), src/os_regex/*.
 * Only user rules are loaded (the shipped file excluded), so each case shows one semantic alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alert, AwsEvent } from '../shared/events.js';
import { createAnalyzer, loadRuleset, type CompiledRuleset } from './index.js';

const NOW = new Date(2026, 0, 5, 10, 30); // a Monday, 10:30 local time
type Json = Record<string, unknown>;
const ev = (aws: Json, top: Json = {}): AwsEvent => ({ integration: 'aws', ...top, aws: { log_info: { aws_account_alias: '', log_file: 'k', s3bucket: 'b' }, ...aws } }) as AwsEvent;

/** User rules (in a `<group name="test,">`) alone, with optional CDB lists. */
async function rules(body: string, lists: Record<string, string> = {}, head = ''): Promise<CompiledRuleset> {
  const dir = mkdtempSync(join(tmpdir(), 'tld-wazuh-'));
  writeFileSync(join(dir, 'local_rules.xml'), `${head}<group name="test,">\n${body}\n</group>\n`);
  const paths = Object.entries(lists).map(([name, text]) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  });
  return loadRuleset({ ruleDirs: [], ruleFiles: [join(dir, 'local_rules.xml')], lists: paths, ruleExcludes: ['0350-amazon_rules.xml'] });
}

/** The alerts of `events` read in order as one object; `now` is the analysis time. */
function run(rs: CompiledRuleset, events: AwsEvent[], now: () => Date = () => NOW, managerName = 'wazuh-manager'): Alert[] {
  const out: Alert[] = [];
  createAnalyzer(rs, { logAlertLevel: 1, now, managerName }).analyze({ object: { bucket: 'b', key: 'k', objectId: 'o', bucketType: 'cloudtrail', size: 0 }, firstIndex: 0, events }, (a) => out.push(a));
  return out;
}
const ids = (alerts: Alert[]) => alerts.map((a) => a.rule.id);

/** A base rule 100000 (any AWS event) and `child` under it. */
const under = (child: string) => `<rule id="100000" level="0"><decoded_as>json</decoded_as><field name="integration">aws</field><description>base</description></rule>\n${child}`;

test('OS_Regex and OS_Match are case-insensitive, PCRE2 is not (os_regex compares through its lower-case charmap)', async () => {
  const rs = await rules(under(`
  <rule id="100001" level="5"><if_sid>100000</if_sid><field name="aws.action">^accept$</field><description>osregex</description></rule>
  <rule id="100002" level="4"><if_sid>100000</if_sid><field name="aws.action" type="pcre2">^reject$</field><description>pcre2</description></rule>
  <rule id="100003" level="3"><if_sid>100000</if_sid><match>REJECT</match><description>osmatch</description></rule>`));
  assert.deepEqual(ids(run(rs, [ev({ action: 'ACCEPT' }), ev({ action: 'reject' }), ev({ action: 'Reject' })])), ['100001', '100002', '100003']);
});

test('an absent field fails a condition, negated or not; so does every list lookup, not_match_key included', async () => {
  // rules.c: `if (field = FindField(...), !field) return NULL;` before the negation is looked at; RULE_DYNAMIC
  // list lookups: `if (!(field && OS_DBSearch(...))) return NULL`
  const rs = await rules(under(`
  <rule id="100010" level="5"><if_sid>100000</if_sid><field name="aws.errorCode" negate="yes">AccessDenied</field><description>negated</description></rule>
  <rule id="100011" level="4"><if_sid>100000</if_sid><list field="aws.eventName" lookup="not_match_key">names</list><description>not listed</description></rule>`), { names: 'CreateVpc:x\n' });
  assert.deepEqual(ids(run(rs, [ev({}), ev({ errorCode: 'Throttling' }), ev({ errorCode: 'AccessDenied' }), ev({ errorCode: 'AccessDenied', eventName: 'RunInstances' }), ev({ errorCode: 'AccessDenied', eventName: 'CreateVpc' })])), ['100010', '100011']);
  // an empty string is no value either: the JSON decoder stores none
  assert.deepEqual(ids(run(rs, [ev({ errorCode: '' })])), []);
});

test('check_value: an OS_Match pattern on the key\'s value (match_key_value, address_match_key_value)', async () => {
  // rules.c: check_value compiled with OSMatch_Compile
  const rs = await rules(under(`
  <rule id="100020" level="5"><if_sid>100000</if_sid><list field="aws.eventName" lookup="match_key_value" check_value="^ec2">names</list><description>ec2 call</description></rule>
  <rule id="100021" level="6"><if_sid>100000</if_sid><list field="aws.srcaddr" lookup="address_match_key_value" check_value="scanner">ips</list><description>listed scanner</description></rule>`), { names: 'RunInstances:EC2 - compute\nCreateBucket:S3\n', ips: '198.51.100.0/24:known scanner\n203.0.113.:partner\n' });
  const got = run(rs, [ev({ eventName: 'RunInstances' }), ev({ eventName: 'CreateBucket' }), ev({ srcaddr: '198.51.100.7' }), ev({ srcaddr: '203.0.113.9' }), ev({ srcaddr: '192.0.2.1' })]);
  assert.deepEqual(ids(got), ['100020', '100021']);
  assert.equal((got[1]?.data as AwsEvent).aws.srcaddr, '198.51.100.7');
});

test('static-field elements: JSON events fill them from top-level keys only, so AWS events (all under aws.) never match them', async () => {
  // json_decoder.c fillData: srcip, dstip, srcport, dstport, protocol, action, srcuser, dstuser, id, status, url,
  // data, systemname from keys of those names; rules.c default types: OS_Match, <action> an exact string
  const cases: [string, string, Json][] = [
    ['srcip', '10.0.0.0/8', { srcip: '10.1.2.3' }],
    ['dstip', '!192.168.0.0/16', { dstip: '10.9.9.9' }],
    ['srcport', '^22$', { srcport: '22' }],
    ['dstport', '3389', { dstport: '3389' }],
    ['protocol', 'tcp', { protocol: 'TCP' }],
    ['action', 'blocked', { action: 'blocked' }],
    ['user', 'admin', { dstuser: 'Admin' }],
    ['id', '4625', { id: '4625' }],
    ['status', 'failed', { status: 'FAILED' }],
    ['url', '/login', { url: '/login.php' }],
    ['data', 'secret', { data: 'top secret' }],
    ['extra_data', 'extra', { extra_data: 'extra' }],
    ['system_name', 'win', { systemname: 'windows-host' }],
  ];
  for (const [name, pattern, top] of cases) {
    const rs = await rules(under(`<rule id="100030" level="5"><if_sid>100000</if_sid><${name}>${pattern}</${name}><description>${name}</description></rule>`));
    assert.deepEqual(ids(run(rs, [ev({ [name]: Object.values(top)[0] })])), [], `<${name}> on an aws. field`);
    assert.deepEqual(ids(run(rs, [ev({}, top)])), ['100030'], `<${name}> on a top-level key`);
  }
  // <action> is an exact string by default; a type attribute changes it
  const exact = await rules(under(`<rule id="100031" level="5"><if_sid>100000</if_sid><action>block</action><description>exact</description></rule>`));
  assert.deepEqual(ids(run(exact, [ev({}, { action: 'blocked' }), ev({}, { action: 'block' })])), ['100031']);
  // <user>: the destination user, else the source user
  const user = await rules(under(`<rule id="100032" level="5"><if_sid>100000</if_sid><user>^bob$</user><description>user</description></rule>`));
  assert.deepEqual(ids(run(user, [ev({}, { srcuser: 'bob' }), ev({}, { dstuser: 'alice', srcuser: 'bob' })])), ['100032']);
});

test('<location> is Wazuh-AWS, <hostname> the manager; <program_name> and <srcgeoip> are never set on these events', async () => {
  const rs = await rules(under(`
  <rule id="100040" level="5"><if_sid>100000</if_sid><location>^Wazuh-AWS$</location><hostname>^collector-1$</hostname><description>location</description></rule>
  <rule id="100041" level="6"><if_sid>100000</if_sid><program_name>.</program_name><description>program</description></rule>
  <rule id="100042" level="6"><if_sid>100000</if_sid><srcgeoip>US</srcgeoip><description>geoip</description></rule>`));
  assert.deepEqual(ids(run(rs, [ev({ source: 'vpc' }, { program_name: 'sshd', srcgeoip: 'US' })], () => NOW, 'collector-1')), ['100040']);
  assert.deepEqual(ids(run(rs, [ev({ source: 'vpc' })], () => NOW, 'other')), []);
});

test('<time> and <weekday> test the time of analysis (rules.c OS_IsonTime on the event hour, OS_IsonDay on today)', async () => {
  const rs = await rules(under(`
  <rule id="100050" level="7"><if_sid>100000</if_sid><time>6 pm - 8:30 am</time><description>night</description></rule>
  <rule id="100051" level="6"><if_sid>100000</if_sid><weekday>weekends</weekday><description>weekend</description></rule>
  <rule id="100052" level="5"><if_sid>100000</if_sid><time>9:00-11:00</time><weekday>monday,tuesday</weekday><description>office hours</description></rule>`));
  const at = (d: Date) => ids(run(rs, [ev({})], () => d));
  assert.deepEqual(at(NOW), ['100052']);
  assert.deepEqual(at(new Date(2026, 0, 5, 23, 0)), ['100050']);
  assert.deepEqual(at(new Date(2026, 0, 3, 12, 0)), ['100051'], 'a Saturday noon');
  assert.deepEqual(at(new Date(2026, 0, 6, 8, 0)), ['100050'], '8:00 is before 8:30');
});

test('<if_level>: a child of every rule of that level or above (level 0 counts as 99 while the tree is built)', async () => {
  // rules_list.c OS_AddChild: `ilevel *= 100; _AddtoRule(0, ilevel, ...)`; rules.c holds level 0 as 99 (×100)
  const rs = await rules(under(`
  <rule id="100060" level="3"><if_sid>100000</if_sid><field name="aws.kind">low</field><description>low</description></rule>
  <rule id="100061" level="9"><if_sid>100000</if_sid><field name="aws.kind">high</field><description>high</description></rule>
  <rule id="100062" level="12"><if_level>8</if_level><field name="aws.flag">yes</field><description>after a level 8+ rule</description></rule>`));
  assert.deepEqual(ids(run(rs, [ev({ kind: 'high', flag: 'yes' }), ev({ kind: 'low', flag: 'yes' }), ev({ kind: 'high' })])), ['100062', '100062', '100061']);
  // the second event reaches 100062 under 100000 itself (level 0, held as 99), as analysisd links it
});

test('<category>: JSON events are of the syslog category; a rule of another category never matches; <global_frequency/> is accepted', async () => {
  const rs = await rules(`
  <rule id="100070" level="5"><category>syslog</category><field name="integration">aws</field><description>syslog</description></rule>
  <rule id="100071" level="6"><category>firewall</category><field name="integration">aws</field><description>firewall</description></rule>
  <rule id="100072" level="9" frequency="2" timeframe="60"><if_matched_sid>100070</if_matched_sid><global_frequency/><description>twice</description></rule>`);
  assert.deepEqual(rs.skipped, []);
  assert.deepEqual(ids(run(rs, [ev({}), ev({})])), ['100070', '100072']);
});

test('<same_srcip/>: correlates on the static srcip; events without one never correlate', async () => {
  const rs = await rules(under(`
  <rule id="100080" level="3"><if_sid>100000</if_sid><field name="aws.eventName">ConsoleLogin</field><description>login</description></rule>
  <rule id="100081" level="10" frequency="2" timeframe="60"><if_matched_sid>100080</if_matched_sid><same_srcip/><description>two logins from one srcip</description></rule>`));
  const login = (top: Json) => ev({ eventName: 'ConsoleLogin' }, top);
  assert.deepEqual(ids(run(rs, [login({}), login({}), login({}), login({ srcip: '1.1.1.1' }), login({ srcip: '2.2.2.2' }), login({ srcip: '1.1.1.1' })])), ['100080', '100080', '100080', '100080', '100080', '100081']);
});

test('noalert="1": the rule leads to its children; when none matches it is no match and the next sibling is tried', async () => {
  // rules.c OS_CheckIfRuleMatch: `if (rule->alert_opts & NO_ALERT) return (NULL);` after its children failed
  const rs = await rules(under(`
  <rule id="100090" level="8" noalert="1"><if_sid>100000</if_sid><field name="aws.source">cloudtrail</field><description>silent</description></rule>
  <rule id="100091" level="9"><if_sid>100090</if_sid><field name="aws.errorCode">AccessDenied</field><description>denied</description></rule>
  <rule id="100092" level="3"><if_sid>100000</if_sid><field name="aws.source">cloudtrail</field><description>fallback</description></rule>`));
  const got = run(rs, [ev({ source: 'cloudtrail', errorCode: 'AccessDenied' }), ev({ source: 'cloudtrail' })]);
  assert.deepEqual(ids(got), ['100091', '100092']);
});

test('$VARIABLES from <var> are expanded in contents and attributes (os_xml_variables.c); other $ stay as written', async () => {
  const rs = await rules(
    under(`<rule id="100100" level="$LVL"><if_sid>100000</if_sid><field name="aws.eventName">$DANGEROUS</field><description>$(aws.eventName) is dangerous$</description></rule>`),
    {},
    '<var name="DANGEROUS">^StopLogging$|^DeleteTrail$</var>\n<var name="LVL">12</var>\n',
  );
  const got = run(rs, [ev({ eventName: 'DeleteTrail' }), ev({ eventName: 'CreateTrail' })]);
  assert.deepEqual(got.map((a) => [a.rule.id, a.rule.level, a.rule.description]), [['100100', 12, 'DeleteTrail is dangerous$']]);
});

test('a frequency rule fires again after `frequency` new occurrences (analysisd marks what it counted); once_per_window="yes" fires once per window', async () => {
  // eventinfo.c Search_LastSids stops at an event already `matched` by the rule: a hit consumes its events
  const body = (once: string) => under(`
  <rule id="100110" level="3"><if_sid>100000</if_sid><field name="aws.eventName">ConsoleLogin</field><description>login</description></rule>
  <rule id="100111" level="10" frequency="3" timeframe="600"${once}><if_matched_sid>100110</if_matched_sid><description>three logins</description></rule>`);
  const logins = Array.from({ length: 7 }, () => ev({ eventName: 'ConsoleLogin' }));
  const hits = (alerts: Alert[]) => alerts.map((a, i) => (a.rule.id === '100111' ? i + 1 : 0)).filter(Boolean);
  assert.deepEqual(hits(run(await rules(body('')), logins)), [3, 6]);
  assert.deepEqual(hits(run(await rules(body(' once_per_window="yes"')), logins)), [3]);
});

test('different_field counts earlier values that differ from the current one (not distinct values); previous_output lists them', async () => {
  // rules.c / eventinfo.c: an earlier event is skipped when its different_field value equals the current one's
  const rs = await rules(under(`
  <rule id="100120" level="3"><if_sid>100000</if_sid><field name="aws.action">REJECT</field><description>reject</description></rule>
  <rule id="100121" level="10" frequency="3" timeframe="600"><if_matched_sid>100120</if_matched_sid><same_field>aws.srcaddr</same_field><different_field>aws.dstport</different_field><description>scan</description></rule>`));
  const rej = (port: number) => ev({ action: 'REJECT', srcaddr: '203.0.113.5', dstport: port });
  // 22, 22, then 80: two earlier values differ from 80 → 3 (two distinct values only)
  const a = run(rs, [rej(22), rej(22), rej(80)]);
  assert.deepEqual(ids(a), ['100120', '100120', '100121']);
  assert.equal(a[2]?.previous_output?.split('\n').length, 2);
  assert.match(a[2]?.previous_output ?? '', /^\{"integration": "aws", "aws": \{.*"dstport": 22/);
  // 80, 22, then 22: only 80 differs from 22 → 2
  assert.deepEqual(ids(run(rs, [rej(80), rej(22), rej(22)])), ['100120', '100120', '100120']);
});

test('different_field counts every earlier occurrence of another value, however many repeat (a window merges repeats)', async () => {
  const rs = await rules(under(`
  <rule id="100125" level="3"><if_sid>100000</if_sid><field name="aws.action">REJECT</field><description>reject</description></rule>
  <rule id="100126" level="10" frequency="301" timeframe="600"><if_matched_sid>100125</if_matched_sid><same_field>aws.srcaddr</same_field><different_field>aws.dstport</different_field><description>many rejects</description></rule>`));
  const rej = (port: number, n = 1) => Array.from({ length: n }, () => ev({ action: 'REJECT', srcaddr: '203.0.113.5', dstport: port }));
  const fired = (alerts: Alert[]) => alerts.flatMap((a, i) => (a.rule.id === '100126' ? [[i + 1, a.correlation?.count]] : []));
  // 300 at one time (all alike: merged as the window grows), then another port: 1 + 300 → fires, counting 301
  assert.deepEqual(fired(run(rs, [...rej(22, 300), ...rej(80)])), [[301, 301]]);
  // 299 alike, then two others: the second of them counts 1 + 299 + 1
  assert.deepEqual(fired(run(rs, [...rej(22, 299), ...rej(80), ...rej(443)])), [[301, 301]]);
  // one other port, then the rest alike: each counts only itself and that one
  assert.deepEqual(fired(run(rs, [...rej(80), ...rej(22, 400)])), []);
});

test('<match> and <regex> read the log as the wodle sends it (", " and ": " separators), arrays compare as JSON text', async () => {
  const rs = await rules(under(`
  <rule id="100130" level="5"><if_sid>100000</if_sid><regex>"action": "REJECT", "log_status"</regex><description>regex</description></rule>
  <rule id="100131" level="4"><if_sid>100000</if_sid><match>"action":"ACCEPT"</match><description>compact never appears</description></rule>
  <rule id="100132" level="3"><if_sid>100000</if_sid><field name="aws.tags">^["prod","pci"]$</field><description>array</description></rule>`));
  assert.deepEqual(ids(run(rs, [ev({ action: 'REJECT', log_status: 'OK' }), ev({ action: 'ACCEPT', log_status: 'OK' }), ev({ tags: ['prod', 'pci'] })])), ['100130', '100132']);
});

test('siblings are tried by level, highest first, level 0 before all (rules_list.c _OS_AddRule), whatever the file order', async () => {
  const rs = await rules(under(`
  <rule id="100140" level="3"><if_sid>100000</if_sid><field name="aws.severity">0|1|2|3</field><description>low</description></rule>
  <rule id="100141" level="10"><if_sid>100000</if_sid><field name="aws.severity">7|8|9</field><description>high</description></rule>
  <rule id="100142" level="6"><if_sid>100000</if_sid><field name="aws.severity">4|5|6</field><description>medium</description></rule>`));
  // 7.5 is "7.500000" for the JSON decoder: it holds a 0 and a 5 too, the level-10 sibling is tried first
  assert.deepEqual(ids(run(rs, [ev({ severity: 7.5 }), ev({ severity: 2 }), ev({ severity: 2.5 })])), ['100141', '100140', '100142']);
});

test('a rule with an element we cannot evaluate is reported and left out with its children; the rest loads and runs', async () => {
  const rs = await rules(under(`
  <rule id="100150" level="5"><if_sid>100000</if_sid><if_fts/><field name="aws.x">1</field><description>first time seen</description></rule>
  <rule id="100151" level="6"><if_sid>100150</if_sid><field name="aws.y">1</field><description>child</description></rule>
  <rule id="100152" level="4"><if_sid>100000</if_sid><field name="aws.x">1</field><description>kept</description></rule>`));
  assert.equal(rs.skipped.length, 2);
  assert.match(rs.skipped[0] ?? '', /local_rules\.xml:\d+: rule 100150: <if_fts> is not an element ThreatLockDown evaluates \(rule 100150 skipped/);
  assert.match(rs.skipped[1] ?? '', /rule 100151: its parent rule 100150 was left out/);
  assert.deepEqual(ids(run(rs, [ev({ x: 1, y: 1 })])), ['100152']);
});

test('a refiring frequency rule keeps the exactly-once guarantees: an object taken back and read again fires once, with the same alert id', async () => {
  const rs = await rules(under(`
  <rule id="100160" level="3"><if_sid>100000</if_sid><field name="aws.eventName">ConsoleLogin</field><description>login</description></rule>
  <rule id="100161" level="10" frequency="3" timeframe="600"><if_matched_sid>100160</if_matched_sid><description>three logins</description></rule>`));
  const a = createAnalyzer(rs, { logAlertLevel: 1, now: () => NOW });
  const read = (objectId: string, n: number): string[] => {
    const out: string[] = [];
    a.analyze({ object: { bucket: 'b', key: objectId, objectId, bucketType: 'cloudtrail', size: 0 }, firstIndex: 0, events: Array.from({ length: n }, () => ev({ eventName: 'ConsoleLogin' })) }, (x) => x.rule.id === '100161' && out.push(x.id));
    return out;
  };
  const first = read('o1', 4);
  assert.equal(first.length, 1);
  a.discardObject('o1');
  assert.deepEqual(read('o1', 4), first, 'read again after being taken back: the same hit');
  assert.deepEqual(read('o1', 4), [], 'read again without being taken back: counted once');
  a.objectDone('o1', 1);
  // o1's 4th login opened a new window (1 occurrence): two more fire it again
  assert.equal(read('o2', 2).length, 1);
});
