/**
 * Conformance with Wazuh's own AWS rules (issue 14, item 8): Wazuh 4.14's `0350-amazon_rules.xml` and its CDB
 * lists, read in place from ../shared/reference/wazuh-ruleset/ as a Wazuh user adds them, over events built for
 * each rule and over the peers' fixtures in ../shared/aws-log-samples/peers/. The rule id and level expected
 * are the ones analysisd gives, worked out from its sources (wazuh/wazuh 4.x):
 * - siblings are tried by level, highest first, level 0 before all (rules_list.c `_OS_AddRule`; rules.c holds
 *   level 0 as 99 while the tree is built), first match wins, the deepest match is the alert, level 0 never alerts;
 * - `<field>` is OS_Regex: unanchored, case-insensitive, `\.+` any non-empty value (os_regex);
 * - numbers are `%i` when integral, else `%f` (json_decoder.c): a GuardDuty severity 7.5 is "7.500000";
 * - an absent field matches nothing (rules.c OS_CheckIfRuleMatch);
 * - a frequency rule fires on its frequency-th occurrence and again after as many new ones (eventinfo.c
 *   Search_LastSids: events counted by a hit are `matched` and never count again).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Alert, AwsEvent } from '../../src/shared/events.js';
import { decodeBuffer } from '../../src/decoders/index.js';
import { createAnalyzer, loadRuleset, type CompiledRuleset, type Explanation } from '../../src/analysis/index.js';
import { SHARED } from '../../testdata/shared.js';

const REF = `${SHARED}/reference/wazuh-ruleset/`;
const PEERS = `${SHARED}/aws-log-samples/peers/`;
const RULE_FILE = `${REF}0350-amazon_rules.xml`;
type Json = Record<string, unknown>;

/** Wazuh's rule file and lists as a user adds them, with our shipped file excluded: only Wazuh's rules run. */
const wazuh: CompiledRuleset = await loadRuleset({ ruleDirs: [], ruleFiles: [RULE_FILE], lists: [`${REF}lists/amazon/aws-eventnames`, `${REF}lists/amazon/aws-sources`], ruleExcludes: [] }); // a user's file of the shipped name replaces it

const ev = (aws: Json, logFile = 'AWSLogs/123456789012/x'): AwsEvent => ({ integration: 'aws', aws: { log_info: { aws_account_alias: '', log_file: logFile, s3bucket: 'bucket' }, ...aws } }) as AwsEvent;

/** Where one event ends: the final rule's id and level, and whether it alerts (level 0 never does). */
function outcome(event: AwsEvent): { id: string | undefined; level: number | undefined } {
  const x: Explanation = createAnalyzer(wazuh, { logAlertLevel: 1, now: () => new Date('2026-01-01T00:00:00Z') }).explain(event);
  return { id: x.rule?.id, level: x.rule?.level };
}

/** The alerts of events read in order, as one object. */
function alerts(events: AwsEvent[]): Alert[] {
  const out: Alert[] = [];
  createAnalyzer(wazuh, { logAlertLevel: 1, now: () => new Date('2026-01-01T00:00:00Z') }).analyze({ object: { bucket: 'b', key: 'k', objectId: 'o', bucketType: 'cloudtrail', size: 0 }, firstIndex: 0, events }, (a) => out.push(a));
  return out;
}

test('Wazuh\'s AWS rule file and lists load as a user adds them: every rule, none skipped', () => {
  const declared = readFileSync(RULE_FILE, 'utf8').match(/<rule id="/g)?.length ?? 0;
  assert.deepEqual(wazuh.skipped, []);
  assert.equal(wazuh.rules.size, declared);
});

const ct = (extra: Json): AwsEvent => ev({ source: 'cloudtrail', eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances', ...extra });
const gd = (severity: number, actionType = 'NETWORK_CONNECTION'): AwsEvent => ev({ source: 'guardduty', severity, title: 't', service: { action: { actionType } } });

/** [name, event, rule id analysisd ends on, its level] — one or more events per rule of the file. */
const CASES: [string, AwsEvent, string | undefined, number | undefined][] = [
  ['any AWS event stops at 80200 (level 0)', ev({ source: 'securityhub' }), '80200', 0],
  ['a non-AWS event matches nothing', { integration: 'gcp', aws: {} } as unknown as AwsEvent, undefined, undefined],
  ['a listed CloudTrail call is 80202', ct({}), '80202', 3],
  ['an unlisted call (DeleteTrail is not in aws-eventnames) stays at 80200', ct({ eventName: 'DeleteTrail' }), '80200', 0],
  ['a listed call with an error code is 80203', ct({ errorCode: 'Client.UnauthorizedOperation' }), '80203', 4],
  ['AccessDenied is 80250 (child of 80203)', ct({ errorCode: 'AccessDenied' }), '80250', 5],
  ['OS_Regex is case-insensitive: accessdenied is 80250 too', ct({ errorCode: 'Client.accessdenied' }), '80250', 5],
  ['an empty error code is no value: 80202', ct({ errorCode: '' }), '80202', 3],
  ['DeleteObjects is not in the list: 80251 is unreachable', ct({ eventName: 'DeleteObjects', eventSource: 's3.amazonaws.com' }), '80200', 0],
  ['ConsoleLogin success is 80253', ct({ eventName: 'ConsoleLogin', responseElements: { ConsoleLogin: 'Success' } }), '80253', 3],
  ['ConsoleLogin failure is 80254', ct({ eventName: 'ConsoleLogin', responseElements: { ConsoleLogin: 'Failure' } }), '80254', 5],
  ['ConsoleLogin with an error code is 80203 (level 4, tried before the level-3 80253)', ct({ eventName: 'ConsoleLogin', errorCode: 'Throttling' }), '80203', 4],
  ['GuardDuty severity 2 is 80301', gd(2), '80301', 3],
  ['GuardDuty severity 5 is 80302', gd(5), '80302', 6],
  ['GuardDuty severity 8 is 80303', gd(8), '80303', 10],
  ['severity 7.5 is "7.500000": 80303 (7|8|9, level 10) is tried before 80301 (0|1|2|3)', gd(7.5), '80303', 10],
  ['severity 2.5 is "2.500000": 80302 (4|5|6) is tried before 80301', gd(2.5), '80302', 6],
  ['a port probe of severity 2 is 80305', gd(2, 'PORT_PROBE'), '80305', 3],
  ['a port probe of severity 5 is 80306', gd(5, 'PORT_PROBE'), '80306', 6],
  ['a port probe of severity 7.5 is 80307', gd(7.5, 'PORT_PROBE'), '80307', 10],
  ['a GuardDuty finding without severity stays at 80300', ev({ source: 'guardduty' }), '80300', 0],
  ['ALB 500 is 80326', ev({ source: 'alb', elb_status_code: 500 }), '80326', 3],
  ['ALB 503 is 80327', ev({ source: 'alb', elb_status_code: 503 }), '80327', 3],
  ['ALB 403 is 80328', ev({ source: 'alb', elb_status_code: 403 }), '80328', 5],
  ['ALB 200 stays at 80325', ev({ source: 'alb', elb_status_code: 200 }), '80325', 0],
  ['Macie LOW is 80351', ev({ source: 'macie', severity: { description: 'Low' } }), '80351', 4],
  ['Macie MEDIUM is 80352', ev({ source: 'macie', severity: { description: 'MEDIUM' } }), '80352', 6],
  ['Macie HIGH is 80353', ev({ source: 'macie', severity: { description: 'HIGH' } }), '80353', 8],
  ['S3 access DELETE is 80361', ev({ source: 's3_server_access', operation: 'REST.DELETE.OBJECT', error_code: '-' }), '80361', 3],
  ['S3 access GET that failed is 80362', ev({ source: 's3_server_access', operation: 'REST.GET.OBJECT', http_status: 404, error_code: '-' }), '80362', 2],
  ['S3 access GET 200 ends at 80363 (level 0)', ev({ source: 's3_server_access', operation: 'REST.GET.OBJECT', http_status: 200, error_code: '-' }), '80363', 0],
  ['S3 access PUT is 80364', ev({ source: 's3_server_access', operation: 'REST.PUT.OBJECT', requester: 'arn:aws:iam::1:user/u', error_code: '-' }), '80364', 3],
  ['S3 access PUT by S3 itself ends at 80365 (level 0)', ev({ source: 's3_server_access', operation: 'REST.PUT.OBJECT', requester: 'svc:s3.amazonaws.com', error_code: '-' }), '80365', 0],
  ['S3 access POST is 80366', ev({ source: 's3_server_access', operation: 'REST.POST.UPLOAD', error_code: '-' }), '80366', 2],
  ['S3 access with an error is 80367 (level 5, before the operations)', ev({ source: 's3_server_access', operation: 'REST.GET.OBJECT', error_code: 'NoSuchKey' }), '80367', 5],
  ['S3 access AccessDenied is 80368', ev({ source: 's3_server_access', operation: 'REST.GET.OBJECT', error_code: 'AccessDenied' }), '80368', 5],
  ['S3 access InvalidSecurity is 80370', ev({ source: 's3_server_access', operation: 'REST.GET.OBJECT', error_code: 'InvalidSecurity' }), '80370', 5],
  ['VPC ACCEPT is 80401', ev({ source: 'vpc', action: 'ACCEPT' }), '80401', 3],
  ['VPC REJECT is 80402', ev({ source: 'vpc', action: 'REJECT' }), '80402', 4],
  ['VPC NODATA (no action) stays at 80400', ev({ source: 'vpc', log_status: 'NODATA' }), '80400', 0],
  ['WAF ALLOW ends at 80441 (level 0)', ev({ source: 'waf', action: 'ALLOW' }), '80441', 0],
  ['WAF BLOCK is 80442', ev({ source: 'waf', action: 'BLOCK', httpRequest: { clientIp: '192.0.2.1' } }), '80442', 3],
  ['Config history OK ends at 80453', ev({ source: 'config', configurationItemStatus: 'OK' }, 'AWSLogs/1/Config/us-east-1/2024/1/1/ConfigHistory/x.json.gz'), '80453', 0],
  ['Config ResourceDiscovered is 80454', ev({ source: 'config', configurationItemStatus: 'ResourceDiscovered' }, 'AWSLogs/1/Config/us-east-1/2024/1/1/ConfigHistory/x.json.gz'), '80454', 3],
  ['Config ResourceNotRecorded is 80455', ev({ source: 'config', configurationItemStatus: 'ResourceNotRecorded' }, 'AWSLogs/1/Config/us-east-1/2024/1/1/ConfigHistory/x.json.gz'), '80455', 3],
  ['Config ResourceDeleted is 80456', ev({ source: 'config', configurationItemStatus: 'ResourceDeleted' }, 'AWSLogs/1/Config/us-east-1/2024/1/1/ConfigHistory/x.json.gz'), '80456', 3],
  ['ResourceDeletedNotRecorded holds "ResourceDeleted": 80456, tried before 80457 (same level, file order), so 80457 is unreachable', ev({ source: 'config', configurationItemStatus: 'ResourceDeletedNotRecorded' }, 'AWSLogs/1/Config/us-east-1/2024/1/1/ConfigHistory/x.json.gz'), '80456', 3],
  ['a Config snapshot is 80475', ev({ source: 'config' }, 'AWSLogs/1/Config/us-east-1/2024/1/1/ConfigSnapshot/x.json.gz'), '80475', 3],
  ['a Config snapshot with a compliance type is 80476', ev({ source: 'config', configuration: { complianceType: 'NON_COMPLIANT' } }, 'AWSLogs/1/Config/us-east-1/2024/1/1/ConfigSnapshot/x.json.gz'), '80476', 6],
  ['Trusted Advisor ERROR is 80481', ev({ source: 'trustedadvisor', status: 'ERROR' }), '80481', 5],
  ['Trusted Advisor WARN is 80482', ev({ source: 'trustedadvisor', status: 'WARN' }), '80482', 4],
  ['Trusted Advisor OK is 80483', ev({ source: 'trustedadvisor', status: 'OK' }), '80483', 3],
  ['KMS call is 80491', ev({ source: 'kms', userIdentity: { type: 'AWSService' } }), '80491', 3],
  ['KMS call by a user is 80492', ev({ source: 'kms', userIdentity: { userName: 'alice' } }), '80492', 3],
  ['KMS call invoked by AWS Internal ends at 80493 (level 0)', ev({ source: 'kms', userIdentity: { invokedBy: 'AWS Internal' } }), '80493', 0],
  ['KMS call by a user invoked by AWS Internal ends at 80493: level 0 (held as 99) is tried before 80492, so 80494 is unreachable', ev({ source: 'kms', userIdentity: { userName: 'alice', invokedBy: 'AWS Internal' } }), '80493', 0],
  ['Inspector High is 80496', ev({ source: 'inspector', severity: 'High' }), '80496', 10],
  ['Inspector Medium is 80497', ev({ source: 'inspector', severity: 'Medium' }), '80497', 7],
  ['Inspector Low is 80498', ev({ source: 'inspector', severity: 'Low' }), '80498', 4],
  ['Inspector Informational is 80499', ev({ source: 'inspector', severity: 'Informational' }), '80499', 3],
];

for (const [name, event, id, level] of CASES) {
  test(`Wazuh rules: ${name}`, () => {
    assert.deepEqual(outcome(event), { id, level });
  });
}

/** Rules no event reaches under analysisd's semantics, with why (each shown by a case above). */
const UNREACHABLE: Record<string, string> = {
  '80251': 'DeleteObjects is not in aws-eventnames, so 80202 never leads to it',
  '80252': 'its only occurrences would come from 80251',
  '80457': '80456 (ResourceDeleted, unanchored) matches every ResourceDeletedNotRecorded first',
  '80494': '80493 (level 0, tried first) takes every event invoked by AWS Internal',
};

test('every rule of Wazuh\'s file is on the path of a case above, but the frequency rules (tested below) and the unreachable ones', () => {
  const reached = new Set(CASES.flatMap(([, event]) => createAnalyzer(wazuh, { logAlertLevel: 1 }).explain(event).chain));
  const frequency = [...wazuh.rules.values()].filter((r) => r.frequency !== undefined).map((r) => r.id);
  const missing = [...wazuh.rules.keys()].filter((id) => !reached.has(id) && !frequency.includes(id) && !(id in UNREACHABLE));
  assert.deepEqual(missing, []);
  for (const id of Object.keys(UNREACHABLE)) assert.ok(!reached.has(id), `${id} is reached`);
});

test('80255 fires at the 6th console login failure and again at the 12th; 80252 never (80251 is unreachable)', () => {
  const fail = ct({ eventName: 'ConsoleLogin', sourceIPAddress: '198.51.100.7', responseElements: { ConsoleLogin: 'Failure' } });
  const got = alerts(Array.from({ length: 13 }, () => structuredClone(fail)));
  assert.deepEqual(got.map((a, i) => (a.rule.id === '80255' ? i + 1 : 0)).filter(Boolean), [6, 12]);
  assert.equal(got.filter((a) => a.rule.id === '80254').length, 11);
  assert.equal(got[5]?.rule.firedtimes, 1);
  assert.equal(got[11]?.rule.firedtimes, 2);
  assert.equal(got[5]?.previous_output?.split('\n').length, 5, 'the five earlier failures the hit counted');
});

test('80369: ten S3 AccessDenied with the same error code in a minute; 80443: eight WAF blocks from one client', () => {
  const denied = ev({ source: 's3_server_access', operation: 'REST.GET.OBJECT', error_code: 'AccessDenied' });
  assert.deepEqual(alerts(Array.from({ length: 10 }, () => structuredClone(denied))).map((a) => a.rule.id).slice(-2), ['80368', '80369']);
  const block = (ip: string) => ev({ source: 'waf', action: 'BLOCK', httpRequest: { clientIp: ip } });
  const waf = alerts([...Array.from({ length: 7 }, () => block('192.0.2.1')), block('192.0.2.2'), block('192.0.2.1')]);
  assert.deepEqual(waf.map((a) => a.rule.id), [...Array(8).fill('80442'), '80443']);
});

// ---- the peers' fixtures ----

const read = (file: string, bucketType: string, text?: string): AwsEvent[] => decodeBuffer(text !== undefined ? Buffer.from(text) : readFileSync(PEERS + file), { bucketType: bucketType as never, logInfo: { aws_account_alias: '', log_file: file, s3bucket: 'peer' } }) as AwsEvent[];

/** VPC: analysisd's 80401/80402 on the record's action, none without one (NODATA, SKIPDATA). */
function vpcExpected(e: AwsEvent): string | undefined {
  const action = String(e.aws.action ?? '').toUpperCase();
  return action.includes('ACCEPT') ? '80401' : action.includes('REJECT') ? '80402' : '80400';
}

test('every record of every peer VPC file with a header (or in the default format) gets the rule analysisd gives its action', () => {
  // Elastic's v5/v8/ECS/Transit Gateway fixtures and Beats' custom-transit-gateway are published without their header line, which AWS writes
  // first in every flow-log file; without it neither Wazuh's module nor ours knows their fields
  const files = ['elastic/vpcflow/test-extra-samples.log', 'elastic/vpcflow/test-tcp-flag-sequence.log', 'beats/vpcflow/accept-reject-traffic.log', 'beats/vpcflow/custom-nat-gateway.log', 'beats/vpcflow/ipv6.log', 'beats/vpcflow/no-data-skip-data.log', 'beats/vpcflow/tcp-flag-sequence-skip-data.log', 'wazuh/test_vpcflow.log'];
  let records = 0;
  const seen = new Set<string | undefined>();
  for (const file of files) {
    for (const e of read(file, 'vpcflow')) {
      records++;
      const got = outcome(e).id;
      seen.add(got);
      assert.equal(got, vpcExpected(e), `${file}: ${JSON.stringify(e.aws)}`);
    }
  }
  assert.ok(records >= 20, `records: ${records}`);
  assert.deepEqual([...seen].sort(), ['80400', '80401', '80402']);
});

/** GuardDuty: the severity as the JSON decoder renders it, against 80303, 80302, 80301 in that order (levels 10, 6, 3). */
function guardDutyExpected(e: AwsEvent): string {
  const s = e.aws.severity as number;
  const text = Number.isInteger(s) ? String(s) : s.toFixed(6);
  const base = /[789]/.test(text) ? '80303' : /[456]/.test(text) ? '80302' : /[0123]/.test(text) ? '80301' : '80300';
  const probe = String((e.aws.service as Json | undefined)?.action && ((e.aws.service as Json).action as Json).actionType).toUpperCase().includes('PORT_PROBE');
  return probe && base !== '80300' ? String(Number(base) + 4) : base;
}

test('peer GuardDuty findings (Elastic, Panther, Wazuh\'s port-probe fixture) get the rule their severity text selects', () => {
  const elastic = read('elastic/guardduty/test-guardduty.log', 'guardduty');
  const panther = (JSON.parse(readFileSync(`${PEERS}panther/AWS.GuardDuty.json`, 'utf8')) as { log: Json }[]).flatMap((t) => read('panther/AWS.GuardDuty.json', 'guardduty', `${JSON.stringify(Object.fromEntries(Object.entries(t.log).filter(([k]) => !k.startsWith('p_'))))}\n`));
  const findings = [...elastic, ...panther];
  assert.ok(findings.length >= 10, `findings: ${findings.length}`);
  for (const e of findings) assert.equal(outcome(e).id, guardDutyExpected(e), `${e.aws.type} severity ${e.aws.severity}`);
});

/** CloudTrail: 80202 for a listed event name, 80203/80250 with an error code, 80253/80254 for console logins. */
function cloudTrailExpected(e: AwsEvent, names: Set<string>): string {
  const a = e.aws as Json;
  if (!names.has(String(a.eventName))) return '80200';
  const err = typeof a.errorCode === 'string' ? a.errorCode : a.errorCode === undefined ? '' : String(a.errorCode);
  if (err !== '') return /accessdenied/i.test(err) ? '80250' : '80203';
  if (/deleteobjects/i.test(String(a.eventName))) return '80251';
  if (/consolelogin/i.test(String(a.eventName))) return /failure/i.test(String((a.responseElements as Json | undefined)?.ConsoleLogin ?? '')) ? '80254' : '80253';
  return '80202';
}

test('peer CloudTrail records (Panther\'s 537 test logs, Elastic\'s console logins) get the rule analysisd gives them', () => {
  const names = new Set(readFileSync(`${REF}lists/amazon/aws-eventnames`, 'utf8').split('\n').map((l) => l.split(':')[0]!.trim()).filter(Boolean));
  const logs = [
    ...(JSON.parse(readFileSync(`${PEERS}panther/AWS.CloudTrail.json`, 'utf8')) as { log: Json }[]).map((t) => t.log),
    ...readFileSync(`${PEERS}elastic/cloudtrail/test-console-login-json.log`, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Json),
  ];
  let checked = 0;
  const seen = new Set<string>();
  for (const log of logs) {
    const record = Object.fromEntries(Object.entries(log).filter(([k]) => !k.startsWith('p_')));
    const events = read('panther/AWS.CloudTrail.json', 'cloudtrail', JSON.stringify({ Records: [record] }));
    for (const e of events) {
      const want = cloudTrailExpected(e, names);
      seen.add(want);
      assert.equal(outcome(e).id, want, `${String(e.aws.eventName)} ${String(e.aws.errorCode ?? '')}`);
      checked++;
    }
  }
  assert.ok(checked >= 500, `records: ${checked}`);
  for (const id of ['80200', '80202', '80203', '80250', '80253', '80254']) assert.ok(seen.has(id), `no peer record reaches ${id}`);
});
