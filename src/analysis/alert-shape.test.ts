/**
 * Alerts in analysisd's shape (issue 14, item 7), checked field by field against Wazuh's index template for
 * `wazuh-alerts-4.x-*` (../shared/reference/wazuh-ruleset/wazuh-template.json, read in place): every field an
 * alert holds is either mapped there with a type its value fits, or left to the template's one dynamic rule
 * (`string_as_keyword`: strings become keywords), which is why every `data` scalar is a string (to_json.c
 * writes the JSON decoder's strings; a number in one record and text in another would be a mapping conflict).
 * Alerts come from real peer records (Elastic's GuardDuty and VPC fixtures) through Wazuh's own rule file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { Alert, AwsEvent } from '../shared/events.js';
import { decodeBuffer } from '../decoders/index.js';
import { createAnalyzer, loadRuleset } from './index.js';
import { ATTACK_TECHNIQUES } from './mitre-attack.js';
import { SHARED } from '../../testdata/shared.js';

const REF = `${SHARED}/reference/wazuh-ruleset/`;
const PEERS = `${SHARED}/aws-log-samples/peers/`;
type Json = Record<string, unknown>;
interface Mapping { type?: string; properties?: Record<string, Mapping> }

const template = JSON.parse(readFileSync(`${REF}wazuh-template.json`, 'utf8')) as { mappings: { properties: Record<string, Mapping> } };

/** The mapping of a dotted path; the template spells some nested objects as one dotted property name. */
function mappingOf(props: Record<string, Mapping> | undefined, parts: string[]): Mapping | undefined {
  if (!props) return undefined;
  for (let n = parts.length; n >= 1; n--) {
    const m = props[parts.slice(0, n).join('.')];
    if (!m) continue;
    if (n === parts.length) return m;
    const deeper = mappingOf(m.properties, parts.slice(n));
    if (deeper) return deeper;
  }
  return undefined;
}

/** Every leaf (arrays are leaves) with its dotted path. */
function leaves(value: unknown, path: string[] = [], out: [string[], unknown][] = []): [string[], unknown][] {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) for (const [k, v] of Object.entries(value)) leaves(v, [...path, k], out);
  else out.push([path, value]);
  return out;
}

function fits(type: string, v: unknown): boolean {
  const scalars = Array.isArray(v) ? v : [v];
  return scalars.every((x) => {
    switch (type) {
      case 'keyword':
      case 'text':
        return typeof x === 'string';
      case 'long':
        return (typeof x === 'number' && Number.isInteger(x)) || (typeof x === 'string' && /^-?\d+$/.test(x));
      case 'boolean':
        return typeof x === 'boolean';
      case 'ip':
        return typeof x === 'string' && isIP(x) !== 0;
      case 'date':
        return typeof x === 'string' && !Number.isNaN(Date.parse(x));
      case 'geo_point':
        return typeof x === 'string' && !Number.isNaN(Number(x));
      default:
        return false;
    }
  });
}

/** What an alert holds that the template does not map and the dynamic string rule would not cover. */
function misfits(alert: Alert): string[] {
  const out: string[] = [];
  for (const [path, v] of leaves(alert)) {
    // our extension: the correlation window of a frequency rule (documented in docs/architecture.md)
    if (path[0] === 'correlation') continue;
    const m = mappingOf(template.mappings.properties, path);
    const where = `${path.join('.')}=${JSON.stringify(v)}`;
    if (m?.type) {
      if (!fits(m.type, v)) out.push(`${where} does not fit ${m.type}`);
    } else if (m?.properties) out.push(`${where} is a value where the template has an object`);
    else if (path[0] === 'data') {
      // unmapped data fields: the dynamic template maps strings as keywords; a number would map as long/float
      const scalars = Array.isArray(v) ? [] : [v];
      for (const x of scalars) if (typeof x !== 'string') out.push(`${where} is not a string`);
    } else out.push(`${where} is not in the template`);
  }
  return out;
}

const records = (file: string, bucketType: string): AwsEvent[] => decodeBuffer(readFileSync(PEERS + file), { bucketType: bucketType as never, logInfo: { aws_account_alias: '', log_file: file, s3bucket: 'peer-bucket' } }) as AwsEvent[];

async function wazuhAlerts(events: AwsEvent[]): Promise<Alert[]> {
  const rs = await loadRuleset({ ruleDirs: [], ruleFiles: [`${REF}0350-amazon_rules.xml`], lists: [`${REF}lists/amazon/aws-eventnames`, `${REF}lists/amazon/aws-sources`], ruleExcludes: [] }); // a user's file of the shipped name replaces it
  const out: Alert[] = [];
  createAnalyzer(rs, { logAlertLevel: 1, now: () => new Date('2026-01-01T00:00:00Z'), managerName: 'manager' }).analyze({ object: { bucket: 'b', key: 'k', objectId: 'o', bucketType: 'guardduty', size: 0 }, firstIndex: 0, events }, (a) => out.push(a));
  return out;
}

test('alerts from Wazuh\'s rules over peer GuardDuty and VPC records fit wazuh-alerts-4.x field by field', async () => {
  const events = [...records('elastic/guardduty/test-guardduty.log', 'guardduty'), ...records('elastic/vpcflow/test-extra-samples.log', 'vpcflow'), ...records('beats/vpcflow/accept-reject-traffic.log', 'vpcflow')];
  const alerts = await wazuhAlerts(events);
  assert.ok(alerts.length >= 10, `alerts: ${alerts.length}`);
  for (const a of alerts) assert.deepEqual(misfits(a), [], `alert ${a.rule.id}`);
  // a GuardDuty finding keeps its arrays and nested objects; every scalar is the decoder's string
  const gd = alerts.find((a) => a.rule.groups.includes('aws_guardduty'));
  assert.ok(gd);
  const aws = (gd.data as Json).aws as Json;
  assert.equal(typeof aws.severity, 'string');
  assert.ok(leaves(gd.data).every(([, v]) => typeof v === 'string' || Array.isArray(v)), 'data scalars are strings');
});

test('rule: compliance tags as their own arrays (out of groups), mitre with tactic and technique, mail, firedtimes or not', async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'tld-shape-'));
  writeFileSync(join(dir, 'r.xml'), `<group name="local,">
  <rule id="100200" level="0"><decoded_as>json</decoded_as><field name="integration">aws</field><description>base</description></rule>
  <rule id="100201" level="10"><if_sid>100200</if_sid><field name="aws.eventName">ConsoleLogin</field>
    <description>login of $(aws.userName)</description>
    <mitre><id>T1078</id><id>T1110</id></mitre>
    <group>authentication_success,pci_dss_10.2.5,gdpr_IV_32.2,hipaa_164.312.b,nist_800_53_AC.7,tsc_CC6.8,gpg13_7.8,</group>
    <options>alert_by_email</options>
  </rule>
  <rule id="100202" level="5"><if_sid>100200</if_sid><field name="aws.eventName">GetObject</field><description>read</description><options>no_counter,no_full_log</options></rule>
</group>`);
  const rs = await loadRuleset({ ruleDirs: [], ruleFiles: [join(dir, 'r.xml')], lists: [], ruleExcludes: ['0350-amazon_rules.xml'] });
  const out: Alert[] = [];
  const ev = (aws: Json): AwsEvent => ({ integration: 'aws', aws: { log_info: { aws_account_alias: '', log_file: 'k', s3bucket: 'b' }, ...aws } }) as AwsEvent;
  createAnalyzer(rs, { logAlertLevel: 1, now: () => new Date('2026-01-01T00:00:00Z') }).analyze({ object: { bucket: 'b', key: 'k', objectId: 'o', bucketType: 'cloudtrail', size: 0 }, firstIndex: 0, events: [ev({ eventName: 'ConsoleLogin', userName: 'ané', count: 3, ratio: 0.5, ok: true, none: null, empty: '', list: [1, 'a'] }), ev({ eventName: 'GetObject' })] }, (a) => out.push(a));
  const [login, read] = out;
  assert.ok(login && read);
  assert.deepEqual(login.rule.groups, ['local', 'authentication_success']);
  assert.deepEqual([login.rule.pci_dss, login.rule.gdpr, login.rule.hipaa, login.rule.nist_800_53, login.rule.tsc, login.rule.gpg13], [['10.2.5'], ['IV_32.2'], ['164.312.b'], ['AC.7'], ['CC6.8'], ['7.8']]);
  assert.deepEqual(login.rule.mitre, { id: ['T1078', 'T1110'], technique: [ATTACK_TECHNIQUES.T1078!.name, ATTACK_TECHNIQUES.T1110!.name], tactic: [...ATTACK_TECHNIQUES.T1078!.tactics, ...ATTACK_TECHNIQUES.T1110!.tactics] });
  assert.equal(login.rule.mail, true);
  assert.equal(login.rule.firedtimes, 1);
  assert.equal(read.rule.mail, false);
  assert.ok(!('firedtimes' in read.rule), 'no_counter');
  // data as the JSON decoder stored it: %i / %f numbers, "true", "null", no empty strings, arrays kept
  const aws = (login.data as Json).aws as Json;
  assert.deepEqual([aws.count, aws.ratio, aws.ok, aws.none, 'empty' in aws, aws.list], ['3', '0.500000', 'true', 'null', false, [1, 'a']]);
  assert.equal((aws.log_info as Json).aws_account_alias, undefined, 'the empty alias is dropped');
  // full_log: the event as the wodle sends it (Python json.dumps: ", ", ": ", non-ASCII escaped)
  assert.match(login.full_log ?? '', /^\{"integration": "aws", "aws": \{"log_info": \{"aws_account_alias": "", /);
  assert.match(login.full_log ?? '', /"userName": "an\\u00e9"/);
  assert.equal(read.full_log, undefined);
  assert.deepEqual([...misfits(login), ...misfits(read)], []);
});

test('firedtimes counts per rule, as analysisd does: two rules alerting under the same id (alert_id) count apart', async () => {
  const rs = await loadRuleset({ ruleDirs: [], ruleFiles: [], lists: [], ruleExcludes: [] });
  const out: Alert[] = [];
  const gd = (type: string): AwsEvent => ({ integration: 'aws', aws: { log_info: { aws_account_alias: '', log_file: 'k', s3bucket: 'b' }, source: 'guardduty', severity: 8, title: 't', type } }) as AwsEvent;
  const compromised = gd('CryptoCurrency:EC2/BitcoinTool.B!DNS');
  const analyzer = createAnalyzer(rs, { logAlertLevel: 3, now: () => new Date('2026-01-01T00:00:00Z') });
  analyzer.analyze({ object: { bucket: 'b', key: 'k', objectId: 'o', bucketType: 'guardduty', size: 0 }, firstIndex: 0, events: [compromised, gd('Recon:EC2/Portscan'), compromised] }, (a) => out.push(a));
  assert.deepEqual(out.map((a) => a.rule.id), ['80303', '80303', '80303'], 'all three alert as Wazuh\'s high band');
  assert.equal(analyzer.explain(compromised).chain.at(-1), '80630', 'the first and third match the type rule');
  assert.deepEqual(out.map((a) => a.rule.firedtimes), [1, 1, 2], 'the type rule (80630) and the plain band rule (80303) each count their own');
});
