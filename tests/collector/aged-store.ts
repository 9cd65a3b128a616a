/**
 * A data directory whose store holds rows on both sides of the default retention horizons (flows 30 days,
 * alerts, GuardDuty findings and object health 365 days), dated from the real clock: old flows (40 days), recent
 * flows (1 day), old and recent alerts, findings (by when last seen) and object health rows. Built through the
 * real decoders and the real store.
 */
import { createHash } from 'node:crypto';
import { decodeBuffer } from '../../src/decoders/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import type { Alert, AwsEvent, ObjectRef } from '../../src/shared/events.js';

const DAY = 86_400_000;
export const AGED = { oldFlows: 7, recentFlows: 5, oldAlerts: 3, recentAlerts: 2, oldObjects: 1, recentObjects: 1, oldFindings: 2, recentFindings: 1 };

function flows(startMs: number, n: number, src: string): AwsEvent[] {
  const lines = ['version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'];
  const start = Math.floor(startMs / 1000);
  for (let i = 0; i < n; i++) lines.push(`2 111111111111 eni-0a1b2c3d4e5f60718 ${src} 10.0.1.9 ${40000 + i} 443 6 4 1000 ${start + i} ${start + i + 30} ACCEPT OK`);
  return decodeBuffer(Buffer.from(`${lines.join('\n')}\n`), { bucketType: 'vpcflow', logInfo: { aws_account_alias: '', log_file: 'k', s3bucket: 'logs' }, accountId: '111111111111' });
}

function alert(id: string, at: number, data: AwsEvent): Alert {
  return { timestamp: new Date(at).toISOString(), rule: { id: '80402', level: 4, description: `aged ${id}`, groups: ['aws'], firedtimes: 1, mail: false }, agent: { id: '000', name: 'm' }, manager: { name: 'm' }, id, decoder: { name: 'json' }, data, location: 'Wazuh-AWS' };
}

function ref(key: string, bucketType: ObjectRef['bucketType'] = 'vpcflow'): ObjectRef {
  return { bucket: 'logs', key, objectId: createHash('sha1').update(`logs/${key}`).digest('hex').slice(0, 16), bucketType, size: 1, region: 'us-east-1', accountId: '111111111111' };
}

/** GuardDuty findings (EventBridge envelopes, as Firehose delivers them), first and last seen at `at`. */
function findings(ids: string[], at: number): AwsEvent[] {
  const iso = new Date(at).toISOString();
  const body = ids
    .map((id) => JSON.stringify({ version: '0', id: `e-${id}`, 'detail-type': 'GuardDuty Finding', source: 'aws.guardduty', account: '111111111111', time: iso, region: 'us-east-1', resources: [], detail: { schemaVersion: '2.0', accountId: '111111111111', region: 'us-east-1', id, type: 'Recon:EC2/PortProbeUnprotectedPort', severity: 2, title: `aged finding ${id}`, createdAt: iso, updatedAt: iso, service: { serviceName: 'guardduty', eventFirstSeen: iso, eventLastSeen: iso, count: 1 } } }))
    .join('');
  return decodeBuffer(Buffer.from(body), { bucketType: 'guardduty', logInfo: { aws_account_alias: '', log_file: 'g', s3bucket: 'logs' }, accountId: '111111111111' });
}

/** Adds old and recent rows (relative to `now`) to an open store. */
export async function addAgedRows(store: Store, now = Date.now(), tag = 'a'): Promise<void> {
  const old = flows(now - 40 * DAY, AGED.oldFlows, '192.0.2.1');
  const recent = flows(now - DAY, AGED.recentFlows, '192.0.2.2');
  const oldAlerts = Array.from({ length: AGED.oldAlerts }, (_, i) => alert(`${tag}-old-${i}`, now - 400 * DAY, old[0]!));
  const recentAlerts = Array.from({ length: AGED.recentAlerts }, (_, i) => alert(`${tag}-recent-${i}`, now - DAY, recent[0]!));
  await store.ingest({ object: ref(`${tag}/old.log`), firstIndex: 0, events: old }, oldAlerts);
  await store.ingest({ object: ref(`${tag}/recent.log`), firstIndex: 0, events: recent }, recentAlerts);
  const oldFindings = findings(Array.from({ length: AGED.oldFindings }, (_, i) => `${tag}-old-finding-${i}`), now - 400 * DAY);
  const recentFindings = findings(Array.from({ length: AGED.recentFindings }, (_, i) => `${tag}-recent-finding-${i}`), now - DAY);
  await store.ingest({ object: ref(`${tag}/findings.json`, 'guardduty'), firstIndex: 0, events: [...oldFindings, ...recentFindings] }, []);
  store.recordObject({ bucket: 'logs', key: `${tag}/old.log`, type: 'vpcflow', status: 'ok', records: old.length, bytes: 1, processedAt: new Date(now - 400 * DAY) });
  store.recordObject({ bucket: 'logs', key: `${tag}/recent.log`, type: 'vpcflow', status: 'ok', records: recent.length, bytes: 1, processedAt: new Date(now - DAY) });
  await store.flush();
}

/** A store in `dataDir` with the aged rows, closed again (the service opens it). */
export async function agedStore(dataDir: string): Promise<void> {
  const store = await openStore(dataDir, { flowRetentionDays: 0, alertRetentionDays: 0 });
  await addAgedRows(store);
  await store.close();
}

/** Row counts of the tables retention prunes. */
export async function counts(store: Store): Promise<{ flows: number; alerts: number; objects: number; findings: number }> {
  const n = async (table: string) => Number((await store.query(`SELECT count(*)::INTEGER AS n FROM ${table}`))[0]?.n);
  return { flows: await n('flows'), alerts: await n('alerts'), objects: await n('objects'), findings: await n('findings') };
}

/** Counts in a closed data directory (opened read-only). */
export async function countsIn(dataDir: string): Promise<{ flows: number; alerts: number; objects: number; findings: number }> {
  const store = await openStore(dataDir, { flowRetentionDays: 0, alertRetentionDays: 0 }, { readOnly: true });
  try {
    return await counts(store);
  } finally {
    await store.close();
  }
}
