/**
 * The analyst's API (issue 15, items 6, 7, 8, 10, 11) over a real DuckDB store with known content: entity pages
 * match exactly, the alert view brings related alerts and flows, triage is recorded with its actor in an
 * append-only log that a restart (a new server on the same file) reads back, POSTs are validated and refused
 * cross-site, and a GuardDuty finding updated by GuardDuty is one row with its history.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/dashboard/server.js';
import { hashPassword } from '../../src/dashboard/auth.js';
import { TriageLog } from '../../src/dashboard/triage-log.js';
import { decodeBuffer } from '../../src/decoders/index.js';
import { createAnalyzer, loadRuleset } from '../../src/analysis/index.js';
import type { Store } from '../../src/store/index.js';
import type { Alert, ObjectRef } from '../../src/shared/events.js';
import type { DashboardConfig } from '../../src/config/types.js';
import { SAMPLES_DIR } from '../../testdata/samples.js';
import { buildStore, HOUR, PEAK_HOUR, T0, XSS } from './store-fixture.js';

const logger = pino({ level: 'silent' });
const open: DashboardConfig = { host: '127.0.0.1', port: 0, user: 'admin' };
const ALL = `from=0&to=${Date.UTC(2030, 0, 1)}`;
const DAY = `from=${T0}&to=${T0 + 24 * HOUR}`;
const SAMPLE_FINDING = '2ab35569068ee10579b5abdbe10e679f';
const ENI = 'eni-0a1b2c3d4e5f60718';
const JUNK_FINDING = 'ffffffffffffffffffffffffffffffff';
/** the Host and Origin a browser sends to this dashboard (inject's default host) */
const SAME_ORIGIN = { host: 'localhost:80', origin: 'http://localhost', 'content-type': 'application/json' };

let store: Store;
let dataDir: string;
let fixtureAlerts: Alert[];
let triageFile: string;
let app: FastifyInstance;

/** GuardDuty's later update of the sample finding (same id): count and severity changed, seen later, from junk coordinates. */
function updatedSample(): Buffer {
  const e = JSON.parse(readFileSync(join(SAMPLES_DIR, 'guardduty/awssample_eventbridge_unauthorizedaccess-ec2-sshbruteforce_2018.json'), 'utf8')) as { detail: Record<string, any> };
  const d = e.detail;
  d.severity = 5;
  d.service.count = Number(d.service.count ?? 1) + 40;
  const later = new Date(Date.parse(d.updatedAt) + HOUR).toISOString();
  d.updatedAt = later;
  d.service.eventLastSeen = later;
  d.service.action.networkConnectionAction.remoteIpDetails.city.cityName = XSS;
  d.service.action.networkConnectionAction.remoteIpDetails.geoLocation = { lat: 52.37, lon: 4.89 };
  // another finding whose coordinates are off the globe
  const junk = JSON.parse(JSON.stringify(e)) as typeof e;
  junk.detail.id = JUNK_FINDING;
  junk.detail.service.action.networkConnectionAction.remoteIpDetails.geoLocation = { lat: 999, lon: 0 };
  return Buffer.from(`${JSON.stringify(e)}\n${JSON.stringify(junk)}\n`);
}

before(async () => {
  ({ store, dataDir, alerts: fixtureAlerts } = await buildStore());
  // the same finding updated by GuardDuty, read through the real decoder, rules and store
  const analyzer = createAnalyzer(await loadRuleset({ ruleDirs: [], ruleFiles: [], lists: [], ruleExcludes: [] }), { logAlertLevel: 3, now: () => new Date(T0 + 24 * HOUR) });
  const key = 'firehose/2025/06/26/15/gd-update.json';
  const body = updatedSample();
  const object: ObjectRef = { bucket: 'logs', key, objectId: createHash('sha1').update(`logs/${key}`).digest('hex').slice(0, 16), bucketType: 'guardduty', size: body.length, region: 'us-east-1', accountId: '111111111111' };
  const events = decodeBuffer(body, { bucketType: 'guardduty', logInfo: { aws_account_alias: '', log_file: key, s3bucket: 'logs' }, accountId: '111111111111' });
  const alerts: Alert[] = [];
  analyzer.analyze({ object, firstIndex: 0, events }, (a) => alerts.push(a));
  await store.ingest({ object, firstIndex: 0, events }, alerts);
  await store.flush();
  fixtureAlerts.push(...alerts);
  triageFile = join(mkdtempSync(join(tmpdir(), 'tld-triage-')), 'dashboard', 'triage.jsonl');
  app = await buildServer({ store, config: open, logger, triageFile });
});
after(async () => {
  await app?.close();
  await store?.close();
});

async function get(path: string, a: FastifyInstance = app, headers: Record<string, string> = {}) {
  const res = await a.inject({ method: 'GET', url: path, headers });
  return { status: res.statusCode, body: res.json() };
}
async function post(path: string, payload: unknown, headers: Record<string, string> = SAME_ORIGIN, a: FastifyInstance = app) {
  const res = await a.inject({ method: 'POST', url: path, headers, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });
  return { status: res.statusCode, body: res.json() };
}
const alertOf = (rule: string) => {
  const a = fixtureAlerts.find((x) => x.rule.id === rule);
  assert.ok(a, `the fixture raised rule ${rule}: ${[...new Set(fixtureAlerts.map((x) => x.rule.id))]}`);
  return a;
};

test('finding lifecycle: two emissions of one finding are one row with both steps in its history', async () => {
  const page = (await get(`/api/entity/finding/${SAMPLE_FINDING}?${ALL}`)).body;
  assert.equal(page.facts.finding.id, SAMPLE_FINDING);
  assert.equal(page.facts.finding.severity, 5, 'the newest state wins');
  assert.deepEqual(page.facts.history.map((h: { severity: number }) => h.severity), [page.facts.history[0].severity, 5]);
  assert.equal(page.facts.history.length, 2);
  assert.ok(page.facts.history[1].count > page.facts.history[0].count);
  assert.equal(page.findings.length, 1);
  const gdAlerts = fixtureAlerts.filter((a) => (a.data as { aws?: { id?: string } }).aws?.id === SAMPLE_FINDING);
  assert.equal(gdAlerts.length, 2, 'each emission raised an alert');
  const queue = (await get(`/api/triage?${ALL}&kind=finding`)).body;
  assert.deepEqual(queue.rows.map((r: { id: string }) => r.id).sort(), [SAMPLE_FINDING, JUNK_FINDING], 'one queue row per finding');
  assert.equal(queue.rows.find((r: { id: string }) => r.id === SAMPLE_FINDING).updates, 2);
  const everything = (await get(`/api/triage?${ALL}&limit=1000`)).body;
  assert.ok(!everything.rows.some((r: { id: string }) => gdAlerts.some((a) => a.id === r.id)), 'its alerts are folded into it, not listed again');
  assert.equal(everything.total, everything.rows.length);
});

test('triage: status, assignee and note recorded with actor and time; filter and counts follow; a restart reads it back', async () => {
  const login = alertOf('80253');
  const before = (await get(`/api/triage/counts?${ALL}`)).body as { status: string; n: number }[];
  assert.ok(before.every((c) => c.status === 'new'));
  const r1 = await post(`/api/triage/alert/${encodeURIComponent(login.id)}`, { status: 'acknowledged', assignee: 'bob', note: `looked at it ${XSS}`, actor: 'carol' });
  assert.equal(r1.status, 200, JSON.stringify(r1.body));
  assert.equal(r1.body.status, 'acknowledged');
  assert.equal(r1.body.assignee, 'bob');
  assert.equal(r1.body.notes[0].text, `looked at it ${XSS}`, 'kept as typed (shown as text)');
  assert.equal(r1.body.history[0].actor, 'carol', 'without sign-in, the name the analyst gave');
  const r2 = await post(`/api/triage/alert/${encodeURIComponent(login.id)}`, { status: 'closed_true_positive' });
  assert.equal(r2.body.history.length, 2);
  assert.equal(r2.body.history[1].actor, 'anonymous');
  assert.ok(Date.parse(r2.body.updatedAt) >= Date.parse(r1.body.updatedAt));
  const f = await post(`/api/triage/finding/${SAMPLE_FINDING}`, { status: 'closed_false_positive', assignee: 'dave' });
  assert.equal(f.status, 200);

  const closed = (await get(`/api/triage?${ALL}&status=closed_true_positive`)).body;
  assert.deepEqual(closed.rows.map((r: { id: string; assignee: string }) => [r.id, r.assignee]), [[login.id, 'bob']]);
  assert.equal((await get(`/api/triage?${ALL}&assignee=dave`)).body.rows[0].id, SAMPLE_FINDING);
  const fresh = (await get(`/api/triage?${ALL}&status=new&limit=1000`)).body;
  assert.ok(!fresh.rows.some((r: { id: string }) => r.id === login.id || r.id === SAMPLE_FINDING));
  const counts = (await get(`/api/triage/counts?${ALL}`)).body as { status: string; kind: string; band: string; n: number }[];
  const n = (status: string, kind: string) => counts.filter((c) => c.status === status && c.kind === kind).reduce((s, c) => s + c.n, 0);
  assert.equal(n('closed_true_positive', 'alert'), 1);
  assert.equal(n('closed_false_positive', 'finding'), 1);
  assert.equal(n('new', 'alert') + 1, before.filter((c) => (c as { kind?: string }).kind === 'alert').reduce((s, c) => s + c.n, 0));

  // a restart: a new server over the same store and triage file
  const again = await buildServer({ store, config: open, logger, triageFile });
  try {
    const s = (await get(`/api/triage/alert/${encodeURIComponent(login.id)}`, again)).body;
    assert.equal(s.status, 'closed_true_positive');
    assert.equal(s.assignee, 'bob');
    assert.deepEqual(s.history.map((h: { actor: string }) => h.actor), ['carol', 'anonymous']);
  } finally {
    await again.close();
  }
  const lines = readFileSync(triageFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 3, 'one line per change, appended');
});

test('triage input: checked before anything is written (400 naming the field, 404, 415, note size)', async () => {
  const id = encodeURIComponent(alertOf('80254').id);
  const size = () => readFileSync(triageFile, 'utf8').length;
  const was = size();
  const cases: [unknown, number, RegExp][] = [
    [{ status: 'done' }, 400, /^status: one of new, acknowledged/],
    [{ verdict: 'x' }, 400, /^verdict: not a triage field/],
    [{}, 400, /nothing to change/],
    [[], 400, /^body:/],
    [{ note: 'x'.repeat(4001) }, 400, /^note: at most 4000 characters/],
    [{ assignee: 'a\nb' }, 400, /^assignee: one line/],
    [{ assignee: 5 }, 400, /^assignee: a string/],
  ];
  for (const [body, status, message] of cases) {
    const r = await post(`/api/triage/alert/${id}`, body);
    assert.equal(r.status, status, JSON.stringify(body).slice(0, 60));
    assert.match(r.body.error, message);
  }
  assert.equal((await post('/api/triage/alert/no-such-alert', { status: 'acknowledged' })).status, 404);
  assert.equal((await post(`/api/triage/case/${id}`, { status: 'acknowledged' })).status, 400);
  assert.equal((await post(`/api/triage/alert/${id}`, 'status=acknowledged', { ...SAME_ORIGIN, 'content-type': 'application/x-www-form-urlencoded' })).status, 415);
  assert.equal((await post(`/api/triage/alert/${id}`, { note: 'x'.repeat(20_000) })).status, 413, 'the body limit');
  assert.equal(size(), was, 'nothing written');
  assert.equal((await get(`/api/triage?${ALL}&status=maybe`)).status, 400);
  assert.equal((await get(`/api/triage?${ALL}&limit=0`)).status, 400);
});

test('triage CSRF: cross-site requests are refused; with sign-in the signed-in user is the actor whatever the body says', async () => {
  const id = encodeURIComponent(alertOf('80254').id);
  assert.equal((await post(`/api/triage/alert/${id}`, { status: 'acknowledged' }, { ...SAME_ORIGIN, origin: 'https://evil.example' })).status, 403);
  assert.equal((await post(`/api/triage/alert/${id}`, { status: 'acknowledged' }, { ...SAME_ORIGIN, 'sec-fetch-site': 'cross-site' })).status, 403);
  const file = join(mkdtempSync(join(tmpdir(), 'tld-triage-auth-')), 'triage.jsonl');
  const secured = await buildServer({ store, config: { ...open, user: 'analyst', passwordHash: hashPassword('pw-for-tests'), token: 'tok-for-tests-0123456789' }, logger, triageFile: file });
  try {
    const unsigned = await post(`/api/triage/alert/${id}`, { status: 'acknowledged' }, SAME_ORIGIN, secured);
    assert.equal(unsigned.status, 401);
    const login = await secured.inject({ method: 'POST', url: '/api/login', payload: { user: 'analyst', password: 'pw-for-tests' } });
    assert.equal(login.statusCode, 200);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const noOrigin = await post(`/api/triage/alert/${id}`, { status: 'acknowledged' }, { cookie, 'content-type': 'application/json' }, secured);
    assert.equal(noOrigin.status, 403, 'a session without an Origin header');
    assert.match(noOrigin.body.error, /Origin/);
    const ok = await post(`/api/triage/alert/${id}`, { status: 'acknowledged', actor: 'mallory' }, { ...SAME_ORIGIN, cookie }, secured);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.history[0].actor, 'analyst');
    const token = await post(`/api/triage/alert/${id}`, { note: 'from a script' }, { authorization: 'Bearer tok-for-tests-0123456789', 'content-type': 'application/json' }, secured);
    assert.equal(token.status, 200, 'a token client (no cookie, no browser) needs no Origin');
    assert.equal(token.body.history[1].actor, 'analyst');
  } finally {
    await secured.close();
  }
});

test('triage log: a torn last line is left out and the next change starts a new line; another process\'s change is seen', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'tld-triage-log-')), 'triage.jsonl');
  const warnings: string[] = [];
  const a = new TriageLog(file, (m) => warnings.push(m));
  a.append({ at: '2026-01-01T00:00:00.000Z', actor: 'x', kind: 'alert', id: 'a1', status: 'acknowledged' });
  appendFileSync(file, '{"at":"2026-01-01T00:00:01.000Z","actor":"x","kind":"al'); // a crash mid-write
  const b = new TriageLog(file, (m) => warnings.push(m));
  assert.equal(b.get('alert', 'a1').status, 'acknowledged');
  b.append({ at: '2026-01-01T00:00:02.000Z', actor: 'y', kind: 'alert', id: 'a1', assignee: 'y' });
  assert.equal(a.get('alert', 'a1').assignee, 'y', 'the first instance (another process) sees the change');
  const c = new TriageLog(file, (m) => warnings.push(m));
  assert.deepEqual(c.get('alert', 'a1').history.map((h) => h.actor), ['x', 'y']);
  assert.ok(warnings.some((w) => w.includes('line 2') && w.includes(file)), warnings.join('; '));
  writeFileSync(file, '');
  assert.equal(new TriageLog(file).get('alert', 'a1').status, 'new');
});

test('triage log that cannot be written: the dashboard still serves, and a change answers 503 naming the file', async () => {
  const blocker = join(mkdtempSync(join(tmpdir(), 'tld-triage-blocked-')), 'not-a-folder');
  writeFileSync(blocker, 'a file where the folder should be');
  const file = join(blocker, 'dashboard', 'triage.jsonl');
  const warnings: string[] = [];
  const blocked = await buildServer({ store, config: open, logger: pino({ level: 'warn' }, { write: (m: string) => void warnings.push(m) }), triageFile: file });
  try {
    assert.equal((await get(`/api/overview?${DAY}`, blocked)).status, 200);
    assert.ok(warnings.some((w) => w.includes(file)), warnings.join('\n'));
    const r = await post(`/api/triage/alert/${encodeURIComponent(alertOf('80254').id)}`, { status: 'acknowledged' }, SAME_ORIGIN, blocked);
    assert.equal(r.status, 503);
    assert.ok(r.body.error.includes(file) && /may write/.test(r.body.error), r.body.error);
  } finally {
    await blocked.close();
  }
});

test('entity pages match exactly: ENI, account, port, instance, user, rule, finding type', async () => {
  const eni = (await get(`/api/entity/eni/${ENI}?${DAY}`)).body;
  assert.equal(eni.flowSummary.flows, 23 * 10 + 100 + 5);
  assert.equal(Number(eni.flowSummary.bytes), 23 * 10 * 1000 + 100 * 1000 + 5 * 60);
  assert.deepEqual(eni.peers.map((p: { src: string; dst: string }) => `${p.src}>${p.dst}`), ['10.0.0.5>10.0.1.9', '198.51.100.66>10.0.1.9']);
  const prefix = (await get(`/api/entity/eni/${ENI.slice(0, -1)}?${DAY}`)).body;
  assert.equal(prefix.flowSummary.flows, 0, 'a prefix of the ENI is another ENI');
  assert.equal(prefix.alertCount, 0);

  const port = (await get(`/api/entity/port/22?${DAY}`)).body;
  assert.equal(port.flowSummary.flows, 5);
  assert.equal(port.flowSummary.rejected, 5);
  assert.equal((await get(`/api/entity/port/2?${DAY}`)).body.flowSummary.flows, 0);
  assert.equal((await get(`/api/entity/port/99999?${DAY}`)).status, 400);

  const account = (await get(`/api/entity/account/111111111111?${ALL}`)).body;
  assert.equal(account.flowSummary.flows, 335);
  assert.ok(account.alerts.every((a: { account: string }) => a.account === '111111111111'));
  assert.equal((await get(`/api/entity/account/11111111111?${ALL}`)).body.alertCount, 0);

  const instance = (await get(`/api/entity/instance/i-99999999?${ALL}`)).body;
  assert.deepEqual(instance.facts.enis, ['eni-bfcffe88']);
  assert.deepEqual(instance.findings.map((f: { id: string }) => f.id).sort(), [SAMPLE_FINDING, JUNK_FINDING]);
  assert.ok(instance.alertCount >= 2, 'the GuardDuty alerts naming it');
  assert.equal((await get(`/api/entity/instance/i-9999999?${ALL}`)).body.alertCount, 0);

  const user = (await get(`/api/entity/user/${encodeURIComponent('arn:aws:iam::111111111111:user/alice')}?${ALL}`)).body;
  assert.ok(user.alertCount >= 2);
  assert.equal(user.hasFlows, false);
  assert.ok(user.addresses.some((a: { ip: string }) => a.ip === '198.51.100.66'));
  assert.equal((await get(`/api/entity/user/${encodeURIComponent('arn:aws:iam::111111111111:user/ali')}?${ALL}`)).body.alertCount, 0);

  const rule = alertOf('80254').rule.id;
  const byRule = (await get(`/api/entity/rule/${rule}?${ALL}`)).body;
  assert.ok(byRule.alerts.length > 0 && byRule.alerts.every((a: { rule_id: string }) => a.rule_id === rule));
  const type = (await get(`/api/entity/finding-type/${encodeURIComponent('UnauthorizedAccess:EC2/SSHBruteForce')}?${ALL}`)).body;
  assert.deepEqual(type.findings.map((f: { id: string }) => f.id).sort(), [SAMPLE_FINDING, JUNK_FINDING]);
  assert.equal((await get(`/api/entity/host/x?${ALL}`)).status, 400);
});

test('alert view: facts of the event, related alerts and flows of the same address around it, the finding of a GuardDuty alert', async () => {
  const login = alertOf('80253');
  const v = (await get(`/api/alert-view/${encodeURIComponent(login.id)}`)).body;
  assert.equal(v.facts.who, 'arn:aws:iam::111111111111:user/alice');
  assert.equal(v.facts.src, '198.51.100.66');
  assert.equal(v.facts.rule.id, '80253');
  assert.equal(v.facts.event, 'signin.amazonaws.com ConsoleLogin');
  assert.equal(v.t, T0 + PEAK_HOUR * HOUR + 600_000);
  assert.equal(v.alert.data.aws.userAgent, XSS, 'the raw event, as data');
  assert.ok(v.related.alerts.some((a: { rule_id: string }) => a.rule_id === '80254'), 'the failed login from the same address');
  assert.ok(!v.related.alerts.some((a: { id: string }) => a.id === login.id));
  assert.equal(v.related.flows.length, 5, 'the five rejected flows of 198.51.100.66 in that hour');
  assert.ok(v.related.flows.every((f: { src: string }) => f.src === '198.51.100.66'));
  assert.equal(v.triage.kind, 'alert');

  const gd = fixtureAlerts.find((a) => (a.data as { aws?: { id?: string } }).aws?.id === SAMPLE_FINDING)!;
  const g = (await get(`/api/alert-view/${encodeURIComponent(gd.id)}`)).body;
  assert.equal(g.facts.instance, 'i-99999999');
  assert.equal(g.facts.eni, 'eni-bfcffe88');
  assert.equal(g.finding.history.length, 2);
  assert.equal(g.triage.kind, 'finding', 'a GuardDuty alert is triaged as its finding');
  assert.ok(Array.isArray(g.facts.mitre));
  assert.equal((await get('/api/alert-view/nope')).status, 404);
});

test('attack map: one point per place from GuardDuty geolocation (the finding\'s newest state); coordinates off the globe are left out', async () => {
  const rows = (await get(`/api/attack-map?${ALL}`)).body as { lat: number; lon: number; city: string; findings: number; ips: string[] }[];
  assert.deepEqual(rows.map((r) => [r.lat, r.lon, r.city, r.findings, r.ips]), [[52.37, 4.89, XSS, 1, ['198.51.100.0']]], 'the place name is data, returned as it was');
  const findings = (await get(`/api/guardduty?${ALL}`)).body.bruteForce as { id: string }[];
  assert.ok(findings.some((f) => f.id === JUNK_FINDING), 'the off-globe finding is stored, only not drawn');
  const map = await app.inject({ method: 'GET', url: '/assets/vendor/countries-110m.json' });
  assert.equal(map.statusCode, 200);
  assert.equal(map.json().type, 'Topology');
  const lib = await app.inject({ method: 'GET', url: '/assets/vendor/topojson-client.min.js' });
  assert.match(lib.body, /topojson/);
  assert.match(String(lib.headers['content-type']), /javascript/);
});
