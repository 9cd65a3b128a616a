/**
 * The API's parameters: a bad value is a 400 naming the parameter (never a 500), a repeated `rule` means any
 * of those rules, free text is literal (LIKE wildcards escaped), and every API answer says `no-store`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/dashboard/server.js';
import type { Store } from '../../src/store/index.js';
import { buildStore, HOUR, T0 } from './store-fixture.js';

let store: Store;
let app: FastifyInstance;
const ALL = `from=0&to=${T0 + 48 * HOUR}`;

before(async () => {
  ({ store } = await buildStore());
  app = await buildServer({ store, config: { host: '127.0.0.1', port: 0, user: 'admin' }, logger: pino({ level: 'silent' }) });
});
after(async () => {
  await app?.close();
  await store?.close();
});

async function get(url: string) {
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.json() as any, headers: res.headers };
}

test('bad values are a 400 whose message names the parameter, never a 500', async () => {
  const cases: [string, string][] = [
    [`/api/alerts?${ALL}&limit=abc`, 'limit'],
    [`/api/alerts?${ALL}&limit=-1`, 'limit'],
    [`/api/alerts?${ALL}&limit=0`, 'limit'],
    [`/api/alerts?${ALL}&limit=2.5`, 'limit'],
    [`/api/alerts?${ALL}&level=high`, 'level'],
    [`/api/alerts?${ALL}&level=99`, 'level'],
    ['/api/alerts?from=1e300', 'from'],
    ['/api/vpc?from=1e300', 'from'],
    ['/api/vpc?from=0&to=99999999999999999999', 'to'],
    ['/api/overview?to=-99999999999999999', 'to'],
    ['/api/guardduty?from=abc', 'from'],
    [`/api/ip/10.0.0.5?from=${T0 + 1}&to=${T0}`, 'from'],
    [`/api/alerts?from=0&from=5&to=${T0}`, 'from'],
    [`/api/alerts?${ALL}&ip=1.2.3.4&ip=5.6.7.8`, 'ip'],
    [`/api/alerts?${ALL}&q=a&q=b`, 'q'],
    [`/api/alerts?${ALL}&${Array.from({ length: 51 }, (_, i) => `rule=${80000 + i}`).join('&')}`, 'rule'],
  ];
  for (const [url, param] of cases) {
    const r = await get(url);
    assert.equal(r.status, 400, `${url}: ${JSON.stringify(r.body)}`);
    assert.match(r.body.error, new RegExp(`^${param}: `), url);
  }
  assert.match((await get('/api/vpc?from=abc')).body.error, /epoch milliseconds/);
});

test('limits: above 1000 rows gives 1000 at most; an empty filter field counts as absent', async () => {
  const all = (await get(`/api/alerts?${ALL}`)).body as unknown[];
  assert.equal((await get(`/api/alerts?${ALL}&limit=1`)).body.length, 1);
  assert.equal((await get(`/api/alerts?${ALL}&limit=5000`)).body.length, all.length);
  assert.equal((await get(`/api/alerts?${ALL}&level=&rule=&q=&limit=`)).body.length, all.length);
});

test('a repeated rule means any of those rules', async () => {
  const all = (await get(`/api/alerts?${ALL}`)).body as { rule_id: string }[];
  const rules = [...new Set(all.map((a) => a.rule_id))];
  assert.ok(rules.length >= 2, `the fixture raises several rules: ${rules}`);
  const [a, b] = rules as [string, string];
  const one = (r: string) => all.filter((x) => x.rule_id === r).length;
  const both = await get(`/api/alerts?${ALL}&rule=${a}&rule=${b}`);
  assert.equal(both.status, 200);
  assert.equal(both.body.length, one(a) + one(b));
  assert.deepEqual(new Set(both.body.map((x: { rule_id: string }) => x.rule_id)), new Set([a, b]));
});

test('free text is literal: % and _ are not wildcards, the escape character is a character', async () => {
  const all = (await get(`/api/alerts?${ALL}`)).body as unknown[];
  assert.ok(all.length > 0);
  const q = async (text: string) => {
    const r = await get(`/api/alerts?${ALL}&q=${encodeURIComponent(text)}`);
    assert.equal(r.status, 200, text);
    return r.body.length as number;
  };
  assert.equal(await q('%'), 0, '% matches a percent sign, not everything');
  assert.equal(await q('onerr_r'), 0, '_ matches an underscore, not any character');
  assert.equal(await q('on%or'), 0);
  assert.equal(await q('onerror'), 1, 'plain text still finds the alert');
  assert.equal(await q('log_file'), all.length, 'an underscore matches itself');
  assert.equal(await q('\\'), 0);
  assert.equal(await q('\\%'), 0);
});

test('every API answer, errors and sign-in included, carries Cache-Control: no-store', async () => {
  for (const url of [`/api/vpc?${ALL}`, '/api/range', '/api/session', '/api/alerts?limit=x', '/api/alerts/nope', '/api/nope', '/metrics']) {
    const r = await app.inject({ method: 'GET', url });
    assert.equal(r.headers['cache-control'], 'no-store', url);
  }
  const login = await app.inject({ method: 'POST', url: '/api/login', payload: { user: 'admin', password: 'x' } });
  assert.equal(login.headers['cache-control'], 'no-store');
});
