/**
 * A small embedded store with known content, built through the real decoders, the shipped ruleset and the
 * real DuckDB store: VPC flows with an exact traffic peak and exact talkers, a GuardDuty SSH brute-force
 * finding (AWS's sample), and CloudTrail events, one of them carrying an HTML payload in its user agent.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { decodeBuffer } from '../../src/decoders/index.js';
import { createAnalyzer, loadRuleset } from '../../src/analysis/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import type { Alert, BucketType, ObjectRef } from '../../src/shared/events.js';
import { SAMPLES_DIR } from '../../testdata/samples.js';

export const HOUR = 3_600_000;
/** 2025-06-26T00:00:00Z */
export const T0 = Date.UTC(2025, 5, 26);
export const PEAK_HOUR = 14;
export const XSS = '<img src=x onerror=alert(1)>';

/** Flows: 24 hours of 10.0.0.5 → 10.0.1.9 at 1 kB per record, ten times that in the peak hour, plus rejects to 22. */
export function vpcText(): string {
  const lines = ['version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'];
  for (let h = 0; h < 24; h++) {
    const start = (T0 + h * HOUR) / 1000 + 60;
    const n = h === PEAK_HOUR ? 100 : 10;
    for (let i = 0; i < n; i++) lines.push(`2 111111111111 eni-0a1b2c3d4e5f60718 10.0.0.5 10.0.1.9 ${40000 + i} 443 6 4 1000 ${start} ${start + 30} ACCEPT OK`);
    if (h === PEAK_HOUR) for (let i = 0; i < 5; i++) lines.push(`2 111111111111 eni-0a1b2c3d4e5f60718 198.51.100.66 10.0.1.9 ${50000 + i} 22 6 1 60 ${start} ${start + 1} REJECT OK`);
  }
  return `${lines.join('\n')}\n`;
}

function cloudtrailText(): string {
  const record = (name: string, extra: Record<string, unknown>) => ({
    eventVersion: '1.08', eventTime: new Date(T0 + PEAK_HOUR * HOUR + 600_000).toISOString(), eventSource: 'signin.amazonaws.com', eventName: name,
    awsRegion: 'us-east-1', sourceIPAddress: '198.51.100.66', userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111111111111:user/alice', accountId: '111111111111', userName: 'alice' },
    eventID: createHash('sha1').update(name + JSON.stringify(extra)).digest('hex'), recipientAccountId: '111111111111', ...extra,
  });
  return JSON.stringify({ Records: [
    record('ConsoleLogin', { userAgent: XSS, responseElements: { ConsoleLogin: 'Success' }, additionalEventData: { MFAUsed: 'No' } }),
    record('ConsoleLogin', { userAgent: 'Mozilla/5.0', errorMessage: 'Failed authentication', responseElements: { ConsoleLogin: 'Failure' } }),
  ] });
}

export async function buildStore(): Promise<{ store: Store; dataDir: string; alerts: Alert[] }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tld-api-'));
  const store = await openStore(dataDir, { flowRetentionDays: 0, alertRetentionDays: 0 });
  const analyzer = createAnalyzer(await loadRuleset({ ruleDirs: [], ruleFiles: [], lists: [], ruleExcludes: [] }), { logAlertLevel: 3, now: () => new Date(T0 + 24 * HOUR) });
  const all: Alert[] = [];
  const add = async (bucketType: BucketType, key: string, body: Buffer) => {
    const object: ObjectRef = { bucket: 'logs', key, objectId: createHash('sha1').update(`logs/${key}`).digest('hex').slice(0, 16), bucketType, size: body.length, region: 'us-east-1', accountId: '111111111111' };
    const events = decodeBuffer(body, { bucketType, logInfo: { aws_account_alias: '', log_file: key, s3bucket: 'logs' }, accountId: '111111111111' });
    const batch = { object, firstIndex: 0, events };
    const alerts: Alert[] = [];
    analyzer.analyze(batch, (a) => alerts.push(a));
    await store.ingest(batch, alerts);
    store.recordObject({ bucket: 'logs', key, type: bucketType, status: 'ok', records: events.length, bytes: body.length, lastModified: new Date(T0 + 24 * HOUR), processedAt: new Date(T0 + 24 * HOUR) });
    all.push(...alerts);
  };
  await add('vpcflow', 'AWSLogs/111111111111/vpcflowlogs/us-east-1/2025/06/26/flows.log', Buffer.from(vpcText()));
  await add('guardduty', 'firehose/2025/06/26/14/gd.json', readFileSync(join(SAMPLES_DIR, 'guardduty/awssample_eventbridge_unauthorizedaccess-ec2-sshbruteforce_2018.json')));
  await add('cloudtrail', 'AWSLogs/111111111111/CloudTrail/us-east-1/2025/06/26/ct.json', Buffer.from(cloudtrailText()));
  await store.flush();
  return { store, dataDir, alerts: all };
}

/** Alerts written straight into the store's table (neighbouring addresses and texts the ruleset would not make), at the peak hour. */
export async function addAlerts(store: Store, rows: { id: string; level: number; rule_id: string; description: string; src_ip?: string; dst_ip?: string; account?: string }[]): Promise<void> {
  for (const r of rows) {
    await store.query(`INSERT INTO alerts (id, ts, event_ts, level, rule_id, description, groups, source, account, region, src_ip, dst_ip, bucket, json)
        VALUES ($1, make_timestamp($2::BIGINT * 1000), NULL, $3, $4, $5, 'test', 'vpcflow', $6, 'us-east-1', $7, $8, 'logs', $9)`,
      [r.id, T0 + PEAK_HOUR * HOUR, r.level, r.rule_id, r.description, r.account ?? null, r.src_ip ?? null, r.dst_ip ?? null, JSON.stringify({ id: r.id, rule: { id: r.rule_id, description: r.description } })]);
  }
}
