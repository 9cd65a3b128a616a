/**
 * The analyst's APIs (entity pages, alert view, triage queue and counts, attacker map) on the dashboard bench's
 * store. Run after the bench's own panels, so their figures stay comparable with earlier runs: it adds 100,000
 * alerts and 5,000 GuardDuty findings over the same week (one in ten alerts from GuardDuty), whose addresses,
 * ENIs and ports are those of the bench's flows, and a triage log of 2,000 changes.
 */
import { join } from 'node:path';
import type { Store } from '../src/store/index.js';
import type { Range } from '../src/dashboard/queries.js';
import { entityPage } from '../src/dashboard/entity-queries.js';
import { alertView } from '../src/dashboard/alert-view.js';
import { triageCounts, triageQueue } from '../src/dashboard/triage.js';
import { attackLocations } from '../src/dashboard/attack-map.js';
import { TriageLog } from '../src/dashboard/triage-log.js';

const WEEK = 7 * 86_400_000;
const ALERTS = 100_000;
const FINDINGS = 5_000;

export async function fillAnalystData(store: Store, dir: string, t0: number): Promise<TriageLog> {
  // sources 10.0.x.y and destinations 10.1.x.y as the bench's flows have them (worker.ts)
  const src = `concat_ws('.', 10, 0, ((i * 31) % 5000) // 250, ((i * 31) % 5000) % 250)`;
  const dst = `concat_ws('.', 10, 1, ((i * 17) % 300) // 250, ((i * 17) % 300) % 250)`;
  await store.query(`INSERT INTO alerts SELECT 'bench-' || i, t, t, 3 + i % 10, CASE WHEN i % 10 = 0 THEN '80631' ELSE '80641' END, 'bench alert ' || i, 'aws', CASE WHEN i % 10 = 0 THEN 'guardduty' ELSE 'vpc' END,
      '111111111111', 'us-east-1', s, d, 'bench',
      json_object('id', 'bench-' || i, 'rule', json_object('id', CASE WHEN i % 10 = 0 THEN '80631' ELSE '80641' END, 'level', 3 + i % 10, 'description', 'bench alert ' || i, 'groups', ['aws'], 'mitre', json_object('id', ['T1110'])),
        'data', json_object('aws', CASE WHEN i % 10 = 0
          THEN json_object('source', 'guardduty', 'id', 'finding-' || (i // 10) % ${FINDINGS}, 'type', 'UnauthorizedAccess:EC2/SSHBruteForce', 'accountId', '111111111111', 'updatedAt', strftime(t, '%Y-%m-%dT%H:%M:%SZ'),
            'resource', json_object('instanceDetails', json_object('instanceId', 'i-' || i % 40, 'networkInterfaces', [json_object('networkInterfaceId', 'eni-' || i % 40, 'privateIpAddress', d)])),
            'service', json_object('action', json_object('networkConnectionAction', json_object('remoteIpDetails', json_object('ipAddressV4', s)))))
          ELSE json_object('source', 'vpc', 'srcaddr', s, 'dstaddr', d, 'dstport', [443, 80, 22, 3389, 8080, 5432][i % 6 + 1], 'interface_id', 'eni-' || i % 40, 'start', strftime(t, '%Y-%m-%dT%H:%M:%SZ'), 'aws_account_id', '111111111111') END))::VARCHAR
    FROM (SELECT i, make_timestamp(($1::BIGINT + i * ${WEEK} // ${ALERTS}) * 1000) AS t, ${src} AS s, ${dst} AS d FROM range(${ALERTS}) r(i))`, [t0]);
  await store.query(`INSERT INTO findings SELECT 'finding-' || i, 'UnauthorizedAccess:EC2/SSHBruteForce', 1 + (i % 89) / 10, 'bench finding ' || i, '111111111111', 'us-east-1', 'i-' || i % 40, NULL, NULL, 'NETWORK_CONNECTION',
      s, 'Country ' || i % 50, 'City ' || i % 200, (i % 170) - 85, (i % 350) - 175, 22, 'TARGET', t, t, 1 + i % 100,
      '[{"at":"2025-06-20T00:00:00.000Z","severity":2,"count":1},{"at":"2025-06-21T00:00:00.000Z","severity":5,"count":40}]',
      json_object('id', 'finding-' || i, 'resource', json_object('instanceDetails', json_object('instanceId', 'i-' || i % 40, 'networkInterfaces', [json_object('networkInterfaceId', 'eni-' || i % 40, 'privateIpAddress', '10.1.0.' || i % 250)])))::VARCHAR
    FROM (SELECT i, make_timestamp(($1::BIGINT + i * ${WEEK} // ${FINDINGS}) * 1000) AS t, ${src} AS s FROM range(${FINDINGS}) r(i))`, [t0]);
  const log = new TriageLog(join(dir, 'dashboard', 'triage.jsonl'));
  const statuses = ['acknowledged', 'closed_true_positive', 'closed_false_positive'] as const;
  for (let k = 0; k < 2000; k++) {
    const finding = k % 5 === 0;
    log.append({ at: new Date(t0 + k * 1000).toISOString(), actor: 'bench', kind: finding ? 'finding' : 'alert', id: finding ? `finding-${k * 2}` : `bench-${k * 41 + 1}`, status: statuses[k % 3]!, assignee: `analyst-${k % 7}` });
  }
  return log;
}

/** Measures each analyst API over the bench's ranges (`measure` runs it on each range, p50/p95 by name). */
export async function measureAnalyst(store: Store, log: TriageLog, measure: (name: string, f: (r: Range) => Promise<unknown>) => Promise<void>): Promise<string[]> {
  let n = 0;
  const names: [string, (r: Range) => Promise<unknown>][] = [
    ['entity: account (every flow)', (r) => entityPage(store, 'account', '111111111111', r)],
    ['entity: ENI', (r) => entityPage(store, 'eni', 'eni-7', r)],
    ['entity: port 22', (r) => entityPage(store, 'port', '22', r)],
    ['entity: instance', (r) => entityPage(store, 'instance', 'i-7', r)],
    ['entity: rule', (r) => entityPage(store, 'rule', '80641', r)],
    ['entity: finding', (r) => entityPage(store, 'finding', `finding-${(n++ * 97) % FINDINGS}`, r)],
    ['alert view', () => alertView(store, `bench-${(n++ * 4099 + 1) % ALERTS}`)],
    ['triage queue', (r) => triageQueue(store, log, r, { status: 'new', band: 'high', limit: 100, offset: 0 })],
    ['triage counts', (r) => triageCounts(store, log, r)],
    ['attack map', (r) => attackLocations(store, r)],
  ];
  for (const [name, f] of names) await measure(name, f);
  return names.map(([name]) => name);
}
