/**
 * The shipped ruleset keeps the rule ids and groups Wazuh gives, so a Wazuh user's searches, integrations and
 * active responses on `rule.id` or `rule.groups` keep finding what they found (docs/decisions/wazuh-rule-ids.md).
 * For events built for each of Wazuh's AWS rules, what Wazuh gives is worked out by running Wazuh 4.14's own
 * 0350-amazon_rules.xml and aws-eventnames list (read from ../shared/reference/wazuh-ruleset/) through the
 * same engine, loaded as a Wazuh user adds them; the shipped ruleset must give the same alert id, at least
 * Wazuh's groups, and at least Wazuh's level. Severities are whole numbers here: Wazuh files a fractional one
 * by the text "%f" gives it ("7.500000" holds the low band's "0"), which the shipped ruleset deliberately does
 * not do (last test).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AwsEvent } from '../../shared/events.js';
import { decodeBuffer } from '../../decoders/index.js';
import { createAnalyzer, loadRuleset } from '../index.js';
import type { CompiledRuleset } from '../load-rules.js';
import type { Explanation } from '../engine.js';
import { SAMPLES_DIR } from '../../../testdata/samples.js';
import { wazuhReference } from '../../../testdata/wazuh-reference.js';

const REF = wazuhReference();
const shipped = await loadRuleset({ ruleDirs: [], ruleFiles: [], lists: [], ruleExcludes: [] });
// Wazuh's file replaces the shipped one of the same name, with Wazuh's list (as a Wazuh user adds them)
const wazuh = await loadRuleset({ ruleDirs: [REF], ruleFiles: [], lists: [join(REF, 'lists/amazon/aws-eventnames')], ruleExcludes: [] });
assert.ok(wazuh.rules.get('80200')?.file.startsWith(REF), "Wazuh's own file is the one loaded");

const NOW = () => new Date('2026-01-01T00:00:00Z');

/** What an event comes out as: the id its alert carries, groups, level. */
function outcome(rs: CompiledRuleset, event: AwsEvent): { id: string | undefined; groups: string[]; level: number; x: Explanation } {
  const x = createAnalyzer(rs, { logAlertLevel: 1, now: NOW }).explain(structuredClone(event));
  const rule = x.rule ? rs.rules.get(x.rule.id) : undefined;
  const id = rule ? (rule.alertId ?? rule.id) : undefined;
  // the alert, when one is written, carries that id
  if (x.alert) assert.equal(x.alert.rule.id, id);
  return { id, groups: rule?.groups ?? [], level: rule?.level ?? 0, x };
}

function sample(path: string, type: 'guardduty' | 'cloudtrail' | 'vpcflow'): AwsEvent[] {
  return decodeBuffer(readFileSync(SAMPLES_DIR + path), { bucketType: type, logInfo: { aws_account_alias: '', log_file: path, s3bucket: 'test' } }) as AwsEvent[];
}

function withAws(event: AwsEvent, aws: Record<string, unknown>): AwsEvent {
  const e = structuredClone(event) as AwsEvent & { aws: Record<string, unknown> };
  Object.assign(e.aws, aws);
  return e;
}

function sameAsWazuh(name: string, event: AwsEvent, wazuhRule: string): void {
  const w = outcome(wazuh, event);
  assert.equal(w.id, wazuhRule, `${name}: the event is built for Wazuh's ${wazuhRule} (chain ${w.x.chain.join(' > ')})`);
  const s = outcome(shipped, event);
  assert.equal(s.id, w.id, `${name}: shipped ${s.x.rule?.id} carries ${s.id}, Wazuh gives ${w.id}`);
  assert.deepEqual(w.groups.filter((g) => !s.groups.includes(g)), [], `${name}: Wazuh's groups of ${w.id} kept`);
  assert.ok(s.level >= w.level, `${name}: level ${s.level} is not below Wazuh's ${w.level}`);
}

const GD = 'guardduty/';
const KINDS = [
  { name: 'port probe', event: sample(`${GD}real_recon-ec2-portprobeunprotectedport_mozilla-2019.json`, 'guardduty')[0] as AwsEvent, port: true },
  { name: 'compromised instance (bitcoin DNS)', event: sample(`${GD}awssample_cryptocurrency-ec2-bitcointool.b-dns_via-mozilla-2019.json`, 'guardduty')[0] as AwsEvent, group: 'aws_compromised_instance' },
  { name: 'compromised instance (backdoor)', event: sample(`${GD}awssample_backdoor-ec2-denialofservice.tcp_via-mozilla-2019.json`, 'guardduty')[0] as AwsEvent, group: 'aws_compromised_instance' },
  { name: 'RDP brute force', event: sample(`${GD}real_unauthorizedaccess-ec2-rdpbruteforce_mozilla-2019.json`, 'guardduty')[0] as AwsEvent, group: 'aws_brute_force' },
  { name: 'unusual API call (Tor caller)', event: sample(`${GD}awssample_unauthorizedaccess-iamuser-toripcaller_via-mozilla-2019.json`, 'guardduty')[0] as AwsEvent, group: 'aws_unusual_api_call' },
  { name: 'finding without a type rule', event: withAws(sample(`${GD}real_unauthorizedaccess-ec2-rdpbruteforce_mozilla-2019.json`, 'guardduty')[0] as AwsEvent, { type: 'Behavior:EC2/NetworkPortUnusual' }) },
];
/** Wazuh's bands (80301 `0|1|2|3`, 80302 `4|5|6`, 80303 `7|8|9`) and a whole severity in each; 9 is critical for GuardDuty, high for Wazuh. */
const BANDS = [
  { severity: 2, rule: '80301', probe: '80305' },
  { severity: 5, rule: '80302', probe: '80306' },
  { severity: 8, rule: '80303', probe: '80307' },
  { severity: 9, rule: '80303', probe: '80307' },
];

for (const kind of KINDS) {
  test(`GuardDuty ${kind.name}: Wazuh's band id (80301-80303, 80305-80307) at every severity, with the type rule's group and level`, () => {
    for (const band of BANDS) {
      const event = withAws(kind.event, { severity: band.severity });
      sameAsWazuh(`severity ${band.severity}`, event, kind.port ? band.probe : band.rule);
      const s = outcome(shipped, event);
      if (kind.group) assert.ok(s.groups.includes(kind.group), `severity ${band.severity}: ${s.x.rule?.id} is in ${kind.group}`);
    }
  });
}

test("CloudTrail: events built for 80202, 80203, 80250, 80253 and 80254 get Wazuh's ids", () => {
  const docs = sample('cloudtrail/awsdocs/cloudtrail-log-file-examples_records.json', 'cloudtrail');
  const start = docs.find((e) => (e.aws as Record<string, unknown>).eventName === 'StartInstances') as AwsEvent;
  const logins = sample('cloudtrail/elastic_console-login_records.json', 'cloudtrail');
  const failed = logins.find((e) => ((e.aws as Record<string, unknown>).responseElements as Record<string, unknown> | undefined)?.ConsoleLogin === 'Failure') as AwsEvent;
  const success = sample('cloudtrail/stratus-red-team/aws.initial-access.console-login-without-mfa.json', 'cloudtrail')[0] as AwsEvent;
  sameAsWazuh('a listed call', start, '80202');
  sameAsWazuh('a listed call with an error', withAws(start, { errorCode: 'Client.InvalidInstanceID' }), '80203');
  sameAsWazuh('a listed call denied', withAws(start, { errorCode: 'AccessDenied' }), '80250');
  sameAsWazuh('a console login', success, '80253');
  sameAsWazuh('a failed console login', failed, '80254');
});

test("CloudTrail detections carry the id Wazuh gives the same event (80202, 80203, 80250) and a group of their own; a failed call is Wazuh's error rule", () => {
  const start = sample('cloudtrail/awsdocs/cloudtrail-log-file-examples_records.json', 'cloudtrail').find((e) => (e.aws as Record<string, unknown>).eventName === 'StartInstances') as AwsEvent;
  const createVpc = sample('cloudtrail/linuxacademy_createvpc-success_as-s3-records.json', 'cloudtrail')[0] as AwsEvent;
  const denied = sample('cloudtrail/constructed/createvpc-denied_client-unauthorizedoperation.json', 'cloudtrail')[0] as AwsEvent;
  const stopLogging = sample('cloudtrail/stratus-red-team/aws.defense-evasion.cloudtrail-stop.json', 'cloudtrail')[0] as AwsEvent;
  const openSsh = sample('cloudtrail/stratus-red-team/aws.exfiltration.ec2-security-group-open-port-22-ingress.json', 'cloudtrail')[0] as AwsEvent;
  assert.equal((denied.aws as Record<string, unknown>).errorCode, 'Client.UnauthorizedOperation');
  // [case, event, Wazuh's id, the shipped rule that matches, the detection's group (none: Wazuh's rule itself)]
  const cases: [string, AwsEvent, string, string, string | undefined][] = [
    ['VPC created', createVpc, '80202', '80610', 'aws_vpc_created'],
    ['VPC creation denied (Client.UnauthorizedOperation)', denied, '80203', '80611', 'aws_vpc_creation_denied'],
    ['VPC creation denied (AccessDenied)', withAws(denied, { errorCode: 'AccessDenied' }), '80250', '80612', 'aws_vpc_creation_denied'],
    ['VPC creation failed for another reason', withAws(denied, { errorCode: 'VpcLimitExceeded' }), '80203', '80203', undefined],
    ['logging stopped', stopLogging, '80202', '80620', 'aws_defense_evasion'],
    ['logging stopped (StartInstances record renamed)', withAws(start, { eventName: 'StopLogging', eventSource: 'cloudtrail.amazonaws.com' }), '80202', '80620', 'aws_defense_evasion'],
    ['StopLogging failed', withAws(stopLogging, { errorCode: 'TrailNotFoundException' }), '80203', '80203', undefined],
    ['StopLogging denied', withAws(stopLogging, { errorCode: 'AccessDenied' }), '80250', '80250', undefined],
    ['SSH opened to the world', openSsh, '80202', '80621', 'aws_security_group_opened'],
    ['opening SSH to the world failed', withAws(openSsh, { errorCode: 'Client.InvalidPermission.Duplicate' }), '80203', '80203', undefined],
    ['opening SSH to the world denied', withAws(openSsh, { errorCode: 'AccessDenied' }), '80250', '80250', undefined],
  ];
  for (const [name, event, wazuhId, rule, group] of cases) {
    sameAsWazuh(name, event, wazuhId);
    const s = outcome(shipped, event);
    assert.equal(s.x.rule?.id, rule, `${name}: chain ${s.x.chain.join(' > ')}`);
    if (group) {
      assert.ok(s.groups.includes(group), `${name}: ${rule} is in ${group}`);
      assert.ok(s.x.alert?.rule.groups.includes(group), `${name}: its alert names ${group}`);
    }
  }
});

test("each CloudTrail detection's group is carried by its rules alone in the shipped ruleset, so it selects them without an id", () => {
  const holders = (group: string) => [...shipped.rules.values()].filter((r) => r.groups.includes(group)).map((r) => r.id).sort();
  assert.deepEqual(holders('aws_vpc_created'), ['80610']);
  assert.deepEqual(holders('aws_vpc_creation_denied'), ['80611', '80612']);
  assert.deepEqual(holders('aws_defense_evasion'), ['80620', '80622']);
  assert.deepEqual(holders('aws_security_group_opened'), ['80621']);
});

test('VPC flows, SSH and RDP included, are 80401/80402 as in Wazuh', () => {
  const flow = sample('vpcflow/awsdocs_default-v2-examples.log', 'vpcflow').find((e) => (e.aws as Record<string, unknown>).dstport === 22) as AwsEvent;
  for (const dstport of [22, 3389, 443]) {
    sameAsWazuh(`accepted to ${dstport}`, withAws(flow, { dstport, action: 'ACCEPT' }), '80401');
    sameAsWazuh(`rejected to ${dstport}`, withAws(flow, { dstport, action: 'REJECT' }), '80402');
  }
});

test('deliberate difference: a fractional severity is banded by its value (a 7.5 port probe is 80307 at level 10; Wazuh files it as 80305, level 3)', () => {
  const probe = KINDS[0]?.event as AwsEvent;
  for (const [severity, id] of [[7.5, '80307'], [5.5, '80306'], [2.5, '80305'], [9.5, '80307']] as const) {
    const s = outcome(shipped, withAws(probe, { severity }));
    assert.equal(s.id, id, `severity ${severity}`);
    assert.ok(s.level >= (shipped.rules.get(id)?.level ?? 99), `severity ${severity}: level ${s.level}`);
  }
});
