/**
 * The CloudTrail panels (GET /api/cloudtrail and the ct-* listings) over the real store, fed through the shipped
 * ruleset: the detections alert under Wazuh's ids (80202, 80203, 80250), so the panels find them by their
 * groups; a group matches as a whole name (rows whose groups merely contain the name, or match it as a LIKE
 * pattern, are not shown), and the errors panel shows Wazuh's 80203/80250, denied VPC creations included.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeBuffer } from '../../src/decoders/index.js';
import { createAnalyzer, loadRuleset } from '../../src/analysis/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import type { Alert, ObjectRef } from '../../src/shared/events.js';
import { cloudtrail } from '../../src/dashboard/queries.js';
import { list } from '../../src/dashboard/lists.js';
import { CLOUDTRAIL_PANELS } from '../../src/dashboard/cloudtrail-panels.js';

const T0 = Date.UTC(2025, 5, 26, 12);
const RANGE = { from: T0 - 3_600_000, to: T0 + 3_600_000 };
let store: Store;

function record(i: number, eventSource: string, eventName: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventVersion: '1.08', eventTime: new Date(T0 + i * 1000).toISOString(), eventSource, eventName, awsRegion: 'us-east-1', sourceIPAddress: '198.51.100.7',
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111111111111:user/alice', accountId: '111111111111', userName: 'alice' },
    eventID: `ev-${i}`, recipientAccountId: '111111111111', ...extra,
  };
}

const vpc = { requestParameters: { cidrBlock: '10.9.0.0/16' } };
const openSsh = { requestParameters: { groupId: 'sg-1', ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIp: '0.0.0.0/0' } };
const RECORDS = [
  record(1, 'ec2.amazonaws.com', 'CreateVpc', { ...vpc, responseElements: { vpc: { vpcId: 'vpc-0a1' } } }),
  record(2, 'ec2.amazonaws.com', 'CreateVpc', { ...vpc, errorCode: 'Client.UnauthorizedOperation' }),
  record(3, 'ec2.amazonaws.com', 'CreateVpc', { ...vpc, errorCode: 'AccessDenied' }),
  record(4, 'ec2.amazonaws.com', 'CreateVpc', { ...vpc, errorCode: 'VpcLimitExceeded' }),
  record(5, 'cloudtrail.amazonaws.com', 'StopLogging', { requestParameters: { name: 'main' } }),
  record(6, 'ec2.amazonaws.com', 'AuthorizeSecurityGroupIngress', openSsh),
  record(7, 'ec2.amazonaws.com', 'AuthorizeSecurityGroupIngress', { ...openSsh, errorCode: 'Client.InvalidPermission.Duplicate' }),
  record(8, 'ec2.amazonaws.com', 'StartInstances', { requestParameters: { instancesSet: { items: [{ instanceId: 'i-1' }] } } }),
];

before(async () => {
  store = await openStore(mkdtempSync(join(tmpdir(), 'tld-ct-panels-')), { flowRetentionDays: 0, alertRetentionDays: 0 });
  const key = 'AWSLogs/111111111111/CloudTrail/us-east-1/2025/06/26/ct.json';
  const body = Buffer.from(JSON.stringify({ Records: RECORDS }));
  const object: ObjectRef = { bucket: 'logs', key, objectId: 'ct-panels', bucketType: 'cloudtrail', size: body.length, region: 'us-east-1', accountId: '111111111111' };
  const events = decodeBuffer(body, { bucketType: 'cloudtrail', logInfo: { aws_account_alias: '', log_file: key, s3bucket: 'logs' }, accountId: '111111111111' });
  const batch = { object, firstIndex: 0, events };
  const alerts: Alert[] = [];
  createAnalyzer(await loadRuleset({ ruleDirs: [], ruleFiles: [], lists: [], ruleExcludes: [] }), { logAlertLevel: 3 }).analyze(batch, (a) => alerts.push(a));
  assert.equal(alerts.length, RECORDS.length, 'every record alerts');
  await store.ingest(batch, alerts);
  await store.flush();
  // rows whose groups only look like a panel's group: a longer name, a LIKE-pattern match (_ is any character)
  for (const [id, groups] of ([['decoy-longer', 'amazon,aws,aws_vpc_created_by_me'], ['decoy-like', 'amazon,aws,awsXvpcXcreated'], ['decoy-prefix', 'amazon,aws,xaws_defense_evasion']] as [string, string][])) {
    await store.query(`INSERT INTO alerts (id, ts, event_ts, level, rule_id, description, groups, source, account, region, src_ip, dst_ip, bucket, json)
        VALUES ($1, make_timestamp($2::BIGINT * 1000), NULL, 5, '80202', $1, $3, 'cloudtrail', '111111111111', 'us-east-1', NULL, NULL, 'logs', '{}')`, [id, T0, groups]);
  }
});

after(async () => {
  await store.close();
});

type Row = { rule_id: string; description: string };
const summary = (rows: Record<string, unknown>[]) => (rows as Row[]).map((r) => `${r.rule_id} ${r.description.replace(/:.*/, '')}`).sort();

test('the panels select the detections by group, under the Wazuh ids their alerts carry', async () => {
  const panels = await cloudtrail(store, RANGE);
  assert.deepEqual(summary(panels.vpcChanges), ['80202 AWS VPC created', '80203 AWS unauthorized VPC creation attempt', '80250 AWS unauthorized VPC creation attempt']);
  assert.deepEqual(summary(panels.evasion), ['80202 AWS defence evasion', '80202 AWS security group sg-1 opened to the whole internet on SSH/RDP by arn']);
  // Wazuh's errors: the denied VPC creations, a CreateVpc over the limit, a failed security-group change
  assert.deepEqual(summary(panels.errors), [
    '80203 AWS CloudTrail', '80203 AWS CloudTrail', '80203 AWS unauthorized VPC creation attempt', '80250 AWS unauthorized VPC creation attempt',
  ]);
  assert.deepEqual(panels.logins, []);
});

test('the ct-* listings select the same rows, page them, and apply the search after the selection', async () => {
  const totals: Record<string, number> = {};
  for (const name of ['ct-vpc-changes', 'ct-evasion', 'ct-errors', 'ct-logins']) totals[name] = (await list(store, name, RANGE, {})).total;
  assert.deepEqual(totals, { 'ct-vpc-changes': 3, 'ct-evasion': 2, 'ct-errors': 4, 'ct-logins': 0 });
  const denied = await list(store, 'ct-vpc-changes', RANGE, { q: 'rule:80250' });
  assert.deepEqual(summary(denied.rows), ['80250 AWS unauthorized VPC creation attempt']);
  // the search's groups: is a whole group name too: not the decoys whose groups only start with or contain it
  const byGroup = await list(store, 'alerts', RANGE, { q: 'groups:AWS_VPC_CREATED' });
  assert.deepEqual(summary(byGroup.rows), ['80202 AWS VPC created']);
  const page = await list(store, 'ct-vpc-changes', RANGE, { limit: '2', sort: 't', dir: 'asc' });
  assert.deepEqual([page.total, (page.rows as Row[]).map((r) => r.description.replace(/:.*/, ''))], [3, ['AWS VPC created', 'AWS unauthorized VPC creation attempt']]);
});

test('every group and rule id a panel selects is declared by the shipped ruleset (a renamed group would empty a panel silently)', async () => {
  const rules = [...(await loadRuleset({ ruleDirs: [], ruleFiles: [], lists: [], ruleExcludes: [] })).rules.values()];
  for (const [panel, selection] of Object.entries(CLOUDTRAIL_PANELS)) {
    if ('groups' in selection) for (const g of selection.groups) assert.ok(rules.some((r) => r.groups.includes(g)), `${panel}: no shipped rule is in ${g}`);
    else for (const id of selection.rules) assert.ok(rules.some((r) => (r.alertId ?? r.id) === id), `${panel}: no shipped rule alerts as ${id}`);
  }
});
