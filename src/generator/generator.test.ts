import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { generateCorpus } from './index.js';
import { decodeBuffer } from '../decoders/index.js';
import { createAnalyzer, loadRuleset } from '../analysis/index.js';
import type { AwsEvent, BucketType } from '../shared/events.js';

const end = new Date('2026-11-23T00:00:00Z');
async function corpus(seed: number, profile: 'unit' | 'demo' = 'unit', until = end) {
  const objects = new Map<string, Buffer>();
  const truth = await generateCorpus({ seed, days: 2, scale: 1, end: until, profile }, { async put(k, b) { objects.set(k, b); } });
  return { objects, truth };
}
const digest = (m: Map<string, Buffer>) => createHash('sha1').update([...m].map(([k, b]) => k + createHash('sha1').update(b).digest('hex')).join()).digest('hex');
const typeOf = (key: string): BucketType => (key.startsWith('firehose/') ? 'guardduty' : key.includes('/vpcflowlogs/') ? 'vpcflow' : 'cloudtrail');

test('the same seed gives the same keys and bytes; another seed gives other logs', async () => {
  const a = await corpus(7);
  const b = await corpus(7);
  const c = await corpus(8);
  assert.equal(digest(a.objects), digest(b.objects));
  assert.notEqual(digest(a.objects), digest(c.objects));
  // zip entries carry the delivery time, not the time of generation (which would change the bytes)
  const zips = [...a.objects].filter(([k]) => k.endsWith('.zip'));
  assert.ok(zips.length > 0);
  for (const [key, body] of zips) {
    const hourFolder = /^firehose\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\//.exec(key)!;
    const dosTime = body.readUInt16LE(10);
    const dosDate = body.readUInt16LE(12);
    const written = new Date((dosDate >> 9) + 1980, ((dosDate >> 5) & 15) - 1, dosDate & 31, dosTime >> 11, (dosTime >> 5) & 63, (dosTime & 31) * 2);
    const hourStart = Date.UTC(+hourFolder[1]!, +hourFolder[2]! - 1, +hourFolder[3]!, +hourFolder[4]!);
    assert.ok(written.getTime() >= hourStart && written.getTime() <= hourStart + 2 * 3_600_000, `${key}: zip entry time ${written.toISOString()}`);
  }
});

test('keys follow the AWS layouts and every object decodes to the records the ground truth counts', async () => {
  const { objects, truth } = await corpus(1);
  const counted: Record<string, number> = { vpcflow: 0, guardduty: 0, cloudtrail: 0 };
  const all: AwsEvent[] = [];
  for (const [key, body] of objects) {
    assert.match(key, /^AWSLogs\/\d{12}\/vpcflowlogs\/[a-z]{2}-[a-z]+-\d\/\d{4}\/\d{2}\/\d{2}\/\d{12}_vpcflowlogs_[a-z0-9-]+_fl-0[0-9a-f]{16}_\d{8}T\d{4}Z_[0-9a-f]{8}\.log\.gz$|^firehose\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/firehose_guardduty-1-[\d-]{19}-[0-9a-f-]{36}(\.gz|\.zip)?$|^AWSLogs\/\d{12}\/CloudTrail\/[a-z]{2}-[a-z]+-\d\/\d{4}\/\d{2}\/\d{2}\/\d{12}_CloudTrail_[a-z0-9-]+_\d{8}T\d{4}Z_[0-9A-F]{16}\.json\.gz$/);
    const events = decodeBuffer(body, { bucketType: typeOf(key), logInfo: { aws_account_alias: '', log_file: key, s3bucket: 'b' } }) as AwsEvent[];
    counted[typeOf(key)] = (counted[typeOf(key)] ?? 0) + events.length;
    all.push(...events);
  }
  const vpcRecords = all.filter((e) => e.aws.source === 'vpc');
  // NODATA lines are records too
  assert.deepEqual(counted, truth.totals.records);
  assert.equal([...objects.keys()].length, Object.values(truth.totals.objects).reduce((a, b) => a + b, 0));
  assert.ok(vpcRecords.some((e) => e.aws.flow_direction === 'egress'), 'custom-format flow logs');
  const scan = vpcRecords.filter((e) => e.aws.srcaddr === '203.0.113.50');
  assert.ok(new Set(scan.map((e) => e.aws.dstport)).size >= 1000, 'port scan: ≥ 1000 distinct ports');
  assert.ok(scan.filter((e) => e.aws.action === 'REJECT').length / scan.length > 0.95);
  assert.ok(all.some((e) => e.aws.userAgent === '<img src=x onerror=alert(1)>'), 'an XSS payload for the dashboard tests');
  assert.equal(truth.scenarios.find((s) => s.id === 'vpc-port-scan')?.keys.length, 1);
  assert.ok(truth.scenarios.every((s) => s.id.startsWith('ct-') || s.keys.length > 0));
});

test('the traffic curve peaks in business hours; the unit profile stays small', async () => {
  const { objects } = await corpus(1, 'demo', new Date('2026-11-26T00:00:00Z')); // Tuesday and Wednesday
  const perHour = new Array<number>(24).fill(0);
  for (const [key, body] of objects) {
    if (!key.includes('/vpcflowlogs/')) continue;
    const hour = Number(/T(\d\d)\d\dZ/.exec(key)?.[1]);
    perHour[hour] = (perHour[hour] ?? 0) + gunzipSync(body).toString().split('\n').length;
  }
  const business = perHour.slice(9, 18).reduce((a, b) => a + b, 0) / 9;
  const night = perHour.slice(0, 6).reduce((a, b) => a + b, 0) / 6;
  assert.ok(business > 2 * night, `business ${business} vs night ${night}`);
  const unit = await corpus(1);
  const size = [...unit.objects.values()].reduce((a, b) => a + b.length, 0);
  assert.ok(size < 1_000_000, `unit corpus ${size} bytes`);
});

test('the GuardDuty scenarios raise alerts with the rule ids their ground truth expects (the ids alerts.json carries)', async () => {
  const { objects, truth } = await corpus(1);
  const analyzer = createAnalyzer(await loadRuleset({ ruleDirs: [], ruleFiles: [], lists: [], ruleExcludes: [] }), { logAlertLevel: 3 });
  const gd = truth.scenarios.filter((s) => s.id.startsWith('gd-'));
  assert.ok(gd.length >= 4);
  for (const s of gd) {
    const alerted = new Set<string>();
    for (const key of s.keys) {
      for (const e of decodeBuffer(objects.get(key)!, { bucketType: 'guardduty', logInfo: { aws_account_alias: '', log_file: key, s3bucket: 'b' } })) {
        const x = analyzer.explain(e);
        if (x.alert) alerted.add(x.alert.rule.id);
      }
    }
    for (const id of s.expectedRules) assert.ok(alerted.has(id), `${s.id}: expected an alert ${id}, the objects raise ${[...alerted].join(', ')}`);
  }
});

test('the CloudTrail scenarios raise, within their time span, the Wazuh ids a user searches by, each expected group on an alert of those ids', async () => {
  const { objects, truth } = await corpus(1);
  const analyzer = createAnalyzer(await loadRuleset({ ruleDirs: [], ruleFiles: [], lists: [], ruleExcludes: [] }), { logAlertLevel: 3 });
  const alerts: { t: number; id: string; groups: string[] }[] = [];
  for (const key of [...objects.keys()].filter((k) => typeOf(k) === 'cloudtrail').sort()) {
    const events = decodeBuffer(objects.get(key)!, { bucketType: 'cloudtrail', logInfo: { aws_account_alias: '', log_file: key, s3bucket: 'b' } });
    analyzer.analyze({ object: { bucket: 'b', key, objectId: key, bucketType: 'cloudtrail', size: 0 }, firstIndex: 0, events }, (a) => {
      alerts.push({ t: Date.parse(String((a.data as { aws: { eventTime: string } }).aws.eventTime)), id: a.rule.id, groups: a.rule.groups });
    });
  }
  const ct = truth.scenarios.filter((s) => s.id.startsWith('ct-'));
  assert.ok(ct.length >= 4);
  assert.ok(ct.filter((s) => s.expectedGroups?.length).length >= 3, 'the detections are told apart by group');
  for (const s of ct) {
    const within = alerts.filter((a) => a.t >= Date.parse(s.from) && a.t <= Date.parse(s.to));
    const ids = new Set(within.map((a) => a.id));
    for (const id of s.expectedRules) assert.ok(ids.has(id), `${s.id}: expected an alert ${id}, the span raises ${[...ids].join(', ')}`);
    for (const group of s.expectedGroups ?? []) {
      assert.ok(within.some((a) => a.groups.includes(group) && s.expectedRules.includes(a.id)), `${s.id}: expected an alert in ${group} under one of ${s.expectedRules.join(', ')}`);
    }
  }
});
