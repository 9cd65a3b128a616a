/**
 * Paged listings (GET /api/list/<name>) over the real store: "N of M" totals, pages that neither overlap nor
 * skip, sorting by whitelisted keys only, and the address page's exact matching (10.0.1.1 is never 10.0.1.10,
 * neither in the address fields nor in text).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/dashboard/server.js';
import type { Store } from '../../src/store/index.js';
import { addAlerts, buildStore, HOUR, PEAK_HOUR, T0 } from './store-fixture.js';

let store: Store;
let app: FastifyInstance;
const ALL = `from=0&to=${T0 + 48 * HOUR}`;
const DAY = `from=${T0}&to=${T0 + 24 * HOUR}`;

before(async () => {
  ({ store } = await buildStore());
  await addAlerts(store, [
    { id: 'a-1', level: 10, rule_id: '90001', description: 'Port scan from 10.0.1.1 to 10 ports', src_ip: '10.0.1.1' },
    { id: 'a-10', level: 10, rule_id: '90001', description: 'Port scan from 10.0.1.10 to 12 ports', src_ip: '10.0.1.10' },
    { id: 'a-11', level: 6, rule_id: '90002', description: 'SSH to 10.0.1.11:22 refused', dst_ip: '10.0.1.11' },
    { id: 'a-110', level: 6, rule_id: '90002', description: 'Seen 110.0.1.1 and 10.0.1.1.5 and 10.0.1.100', src_ip: '110.0.1.1' },
    { id: 'a-text', level: 3, rule_id: '90003', description: 'Seen 10.0.1.1:22 in a log line.' },
    { id: 'a-end', level: 3, rule_id: '90003', description: 'Last contact was 10.0.1.1.' },
  ]);
  app = await buildServer({ store, config: { host: '127.0.0.1', port: 0, user: 'admin' }, logger: pino({ level: 'silent' }) });
});
after(async () => {
  await app?.close();
  await store?.close();
});

async function get(url: string) {
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.json() as any };
}

test('the address page lists only alerts about that exact address, in fields or as a whole address in text', async () => {
  const { body } = await get(`/api/list/ip-alerts?${ALL}&ip=10.0.1.1&limit=1000`);
  assert.deepEqual(body.rows.map((r: { id: string }) => r.id).sort(), ['a-1', 'a-end', 'a-text']);
  assert.equal(body.total, 3);
  const pivot = await get(`/api/ip/10.0.1.1?${ALL}`);
  assert.deepEqual(pivot.body.alerts.map((r: { id: string }) => r.id).sort(), ['a-1', 'a-end', 'a-text'], 'the IP page API too');
  const ten = await get(`/api/ip/10.0.1.10?${ALL}`);
  assert.deepEqual(ten.body.alerts.map((r: { id: string }) => r.id), ['a-10']);
  // the range applies to the address page's alerts as it does to its flows
  const before = await get(`/api/ip/10.0.1.1?from=0&to=${T0}`);
  assert.deepEqual(before.body.alerts, []);
});

test('pages: "N of M" totals, pages neither overlap nor skip, offset past the end is empty', async () => {
  const whole = await get(`/api/list/ip-flows?${DAY}&ip=10.0.0.5&limit=1000`);
  assert.equal(whole.body.total, 23 * 10 + 100);
  assert.equal(whole.body.rows.length, whole.body.total);
  const seen: string[] = [];
  for (let offset = 0; offset < whole.body.total; offset += 100) {
    const page = await get(`/api/list/ip-flows?${DAY}&ip=10.0.0.5&limit=100&offset=${offset}`);
    assert.equal(page.body.total, whole.body.total);
    assert.equal(page.body.offset, offset);
    seen.push(...page.body.rows.map((r: { t: number; sport: number }) => `${r.t}/${r.sport}`));
  }
  assert.deepEqual(seen, whole.body.rows.map((r: { t: number; sport: number }) => `${r.t}/${r.sport}`));
  assert.equal(new Set(seen).size, seen.length);
  const past = await get(`/api/list/ip-flows?${DAY}&ip=10.0.0.5&offset=5000`);
  assert.deepEqual([past.body.rows.length, past.body.total], [0, 330]);
});

test('sorting by a whitelisted column, both ways; NULLs last; anything else is a 400 listing the keys', async () => {
  const asc = await get(`/api/list/ip-flows?${DAY}&ip=10.0.1.9&sort=bytes&dir=asc&limit=1000`);
  const bytes = asc.body.rows.map((r: { bytes: number }) => Number(r.bytes));
  assert.deepEqual(bytes, [...bytes].sort((a, b) => a - b));
  assert.equal(bytes[0], 60, 'the rejected SSH attempts are the smallest');
  const desc = await get(`/api/list/ip-flows?${DAY}&ip=10.0.1.9&sort=bytes&dir=desc&limit=3`);
  assert.deepEqual(desc.body.rows.map((r: { bytes: number }) => Number(r.bytes)), [1000, 1000, 1000]);
  const byAccount = await get(`/api/list/alerts?${ALL}&sort=account&dir=asc&limit=1000`);
  const accounts = byAccount.body.rows.map((r: { account: string | null }) => r.account);
  assert.equal(accounts.at(-1), null, 'rows without the value come last');
  for (const [url, param] of [
    [`/api/list/alerts?${ALL}&sort=${encodeURIComponent('level; DROP TABLE alerts')}`, 'sort'],
    [`/api/list/alerts?${ALL}&sort=json`, 'sort'],
    [`/api/list/alerts?${ALL}&dir=up`, 'dir'],
    [`/api/list/alerts?${ALL}&limit=0`, 'limit'],
    [`/api/list/alerts?${ALL}&limit=1001`, 'limit'],
    [`/api/list/alerts?${ALL}&offset=-1`, 'offset'],
    [`/api/list/ip-flows?${ALL}`, 'ip'],
    [`/api/list/ip-alerts?${ALL}&ip=${'1'.repeat(101)}`, 'ip'],
  ] as const) {
    const r = await get(url);
    assert.equal(r.status, 400, url);
    assert.match(r.body.error, new RegExp(`^${param}: `));
  }
  assert.match((await get(`/api/list/alerts?${ALL}&sort=json`)).body.error, /one of t, level, rule_id/);
  assert.equal((await get(`/api/list/nope?${ALL}`)).status, 404);
});

test('CloudTrail and GuardDuty panels page like the rest, with the search applied', async () => {
  const logins = await get(`/api/list/ct-logins?${ALL}`);
  assert.ok(logins.body.total >= 1 && logins.body.rows.every((r: { rule_id: string }) => ['80253', '80254', '80255'].includes(r.rule_id)));
  const none = await get(`/api/list/ct-logins?${ALL}&q=${encodeURIComponent('account:999')}`);
  assert.equal(none.body.total, 0);
  const gd = await get(`/api/list/gd-brute-force?from=0&to=${T0}`);
  assert.deepEqual([gd.body.total, gd.body.rows[0].instance_id, gd.body.rows[0].port], [1, 'i-99999999', 22]);
  const peak = await get(`/api/list/alerts?from=${T0 + PEAK_HOUR * HOUR}&to=${T0 + (PEAK_HOUR + 1) * HOUR}&q=rule:90001&sort=t`);
  assert.equal(peak.body.total, 2);
});
