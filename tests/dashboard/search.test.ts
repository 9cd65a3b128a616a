/**
 * The search language (src/dashboard/search.ts): what it accepts, the position it names on bad syntax, and what
 * the compiled condition selects from a real DuckDB store (the API fixture plus alerts about neighbouring
 * addresses: 10.0.1.1 must never match 10.0.1.10).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/dashboard/server.js';
import { cidrRange, compileSearch, SearchError } from '../../src/dashboard/search.js';
import type { Store } from '../../src/store/index.js';
import { addAlerts, buildStore, HOUR, T0 } from './store-fixture.js';

let store: Store;
let app: FastifyInstance;
const ALL = `from=0&to=${T0 + 48 * HOUR}`;

before(async () => {
  ({ store } = await buildStore());
  await addAlerts(store, [
    { id: 'near-1', level: 10, rule_id: '90001', description: 'Port scan from 10.0.1.1 to 10 ports', src_ip: '10.0.1.1' },
    { id: 'near-10', level: 10, rule_id: '90001', description: 'Port scan from 10.0.1.10 to 12 ports', src_ip: '10.0.1.10' },
    { id: 'near-11', level: 6, rule_id: '90002', description: 'SSH to 10.0.1.11:22 refused', dst_ip: '10.0.1.11' },
    { id: 'text-1', level: 3, rule_id: '90003', description: 'Seen 10.0.1.1:22 in a log line, mentioned only in text' },
    { id: 'far', level: 12, rule_id: '90004', description: 'Exfiltration to 192.0.2.200 (100% of "bytes")', src_ip: '10.9.0.1', dst_ip: '192.0.2.200', account: '222222222222' },
  ]);
  app = await buildServer({ store, config: { host: '127.0.0.1', port: 0, user: 'admin' }, logger: pino({ level: 'silent' }) });
});
after(async () => {
  await app?.close();
  await store?.close();
});

async function ids(q: string): Promise<string[]> {
  const res = await app.inject({ method: 'GET', url: `/api/list/alerts?${ALL}&limit=1000&q=${encodeURIComponent(q)}` });
  assert.equal(res.statusCode, 200, `${q}: ${res.body}`);
  return (res.json().rows as { id: string }[]).map((r) => r.id).filter((id) => /^(near|text|far)/.test(id)).sort();
}

test('field:value, several values, CIDR, levels, phrases, AND/OR/NOT and parentheses select what they say', async () => {
  assert.deepEqual(await ids('ip:10.0.1.1'), ['near-1'], 'exact: never 10.0.1.10 or 10.0.1.11');
  assert.deepEqual(await ids('src_ip:10.0.1.10'), ['near-10']);
  assert.deepEqual(await ids('ip:10.0.1.0/28'), ['near-1', 'near-10', 'near-11'], 'a CIDR is a range on either address');
  assert.deepEqual(await ids('ip:10.0.0.0/8 NOT ip:10.0.1.0/28'), ['far']);
  assert.deepEqual(await ids('rule:90001,90002'), ['near-1', 'near-10', 'near-11'], 'several rules at once');
  assert.deepEqual(await ids('rule:90001 OR rule:90004'), ['far', 'near-1', 'near-10']);
  assert.deepEqual(await ids('rule:90001 level:>=10 -"10.0.1.10"'), ['near-1'], 'terms side by side are ANDed; -x is NOT');
  assert.deepEqual(await ids('level:=6'), ['near-11']);
  assert.deepEqual(await ids('(rule:90002 OR rule:90003) AND NOT level:<5'), ['near-11'], 'parentheses group; AND binds tighter than OR');
  assert.deepEqual(await ids('"port scan" account:222222222222'), []);
  assert.deepEqual(await ids('"Port scan from"'), ['near-1', 'near-10'], 'a quoted phrase, case-insensitive');
  assert.deepEqual(await ids('"100% of \\"bytes\\""'), ['far'], 'an escaped quote inside a phrase; % is literal');
  assert.deepEqual(await ids('100_'), [], '_ is no wildcard');
  assert.deepEqual(await ids('NOT account:222222222222 rule:90004'), [], 'NOT on a NULL account counts as not that account');
  assert.deepEqual(await ids('NOT account:222222222222 rule:90001'), ['near-1', 'near-10']);
});

test('values never become SQL: they travel as parameters, whatever they hold', async () => {
  const c = compileSearch(`account:"' OR 1=1 --" rule:"x');DROP TABLE alerts;--"`)!;
  assert.ok(!c.sql.includes('DROP') && !c.sql.includes("' OR"), c.sql);
  assert.deepEqual(c.params.slice(0, 2), ["' OR 1=1 --", "x');DROP TABLE alerts;--"]);
  assert.deepEqual(await ids(`account:"' OR 1=1 --"`), []);
  assert.ok(Number((await store.query('SELECT count(*)::INTEGER n FROM alerts'))[0]!.n) > 0);
});

test('bad syntax: a 400 naming the position and what is wrong', async () => {
  const cases: [string, number, RegExp][] = [
    ['"open phrase', 1, /never closed/],
    ['rule:80640 AND', 15, /ends where a term was expected/],
    ['(rule:1 OR rule:2', 18, /\( at position 1 is never closed/],
    ['rule:1)', 7, /closes nothing/],
    ['level:high', 1, /level: takes a rule level/],
    ['ip:10.0.0.0/33', 1, /not an IPv4 CIDR/],
    ['rule: 80640', 6, /needs a value/],
    ['OR rule:1', 1, /needs a term before and after/],
  ];
  for (const [q, position, message] of cases) {
    assert.throws(() => compileSearch(q), (e: unknown) => e instanceof SearchError && e.position === position && message.test(e.message), q);
    for (const path of ['/api/list/alerts', '/api/alerts']) {
      const res = await app.inject({ method: 'GET', url: `${path}?${ALL}&q=${encodeURIComponent(q)}` });
      assert.equal(res.statusCode, 400, `${path} ${q}`);
      assert.match(res.json().error, new RegExp(`^q: position ${position}: `), q);
    }
  }
});

test('an unknown prefix is free text (an ARN), and the old free-text search keeps working', async () => {
  // the whole ARN is the free text searched (its first parameter; a second one holds its case-blind part)
  assert.equal(compileSearch('arn:aws:iam::111111111111:user/alice')!.params[0], 'arn:aws:iam::111111111111:user/alice');
  const res = await app.inject({ method: 'GET', url: `/api/alerts?${ALL}&q=onerror` });
  assert.equal(res.json().length, 1);
});

test('CIDR ranges are computed on the network boundary', () => {
  assert.deepEqual(cidrRange('10.0.1.7/24'), [167772416, 167772671]);
  assert.deepEqual(cidrRange('0.0.0.0/0'), [0, 2 ** 32 - 1]);
  assert.deepEqual(cidrRange('192.0.2.200/32'), [3221226184, 3221226184]);
  assert.equal(cidrRange('10.0.1.7'), undefined);
  assert.equal(cidrRange('010.0.1.7/8'), undefined);
});
