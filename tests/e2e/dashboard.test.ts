/**
 * The dashboard in real headless Chromium over real demo data: every page loads with data, brushing the
 * traffic chart narrows the range, an IP pivot shows flows and alerts from all sources, sign-in works when
 * authentication is configured, and log fields holding HTML never execute.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { hashPassword } from '../../src/dashboard/auth.js';
import { demoData, launch, serve, pageDrawn } from './dashboard-fixture.js';

let dataDir: string;
let browser: Browser;
let server: Awaited<ReturnType<typeof serve>>;
const dialogs: string[] = [];

before(async () => {
  dataDir = demoData();
  server = await serve(dataDir);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

async function open(path: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(`${server.url}${path}`);
  await page.waitForSelector(`body[data-loaded]`);
  return page;
}

test('every page loads with real data', async () => {
  for (const [page, panel] of [['overview', 'Top rules'], ['vpc', 'Who talked'], ['guardduty', 'Brute force'], ['cloudtrail', 'VPC changes'], ['alerts', 'Alerts']]) {
    const p = await open(`#/${page}`);
    const text = await p.locator('main').innerText();
    assert.ok(text.toLowerCase().includes((panel ?? '').toLowerCase()), `${page}: ${text.slice(0, 200)}`);
    assert.ok(!/Could not load/.test(text), `${page} failed: ${text.slice(0, 300)}`);
    assert.ok((await p.locator('main table tbody tr').count()) > 0, `${page} has table rows`);
    await p.close();
  }
});

test('CloudTrail page: the detections appear in their panels under the Wazuh ids they carry (selected by group)', async () => {
  const p = await open('#/cloudtrail');
  const rows = (title: string) => p.locator(`section[data-panel="${title}"] tbody tr`).allInnerTexts();
  const vpc = await rows('VPC changes: created and unauthorized attempts');
  assert.ok(vpc.some((r) => /\b80202\b/.test(r) && /VPC created/.test(r)), `a VPC created as 80202: ${vpc.join(' | ')}`);
  assert.ok(vpc.some((r) => /\b80203\b/.test(r) && /unauthorized VPC creation/.test(r)), `a denied creation as 80203: ${vpc.join(' | ')}`);
  assert.ok(vpc.every((r) => /VPC created|unauthorized VPC creation/.test(r)), vpc.join(' | '));
  const tampering = await rows('Logging and firewall tampering');
  assert.ok(tampering.some((r) => /\b80202\b/.test(r) && /defence evasion: StopLogging/.test(r)), tampering.join(' | '));
  assert.ok(tampering.some((r) => /opened to the whole internet/.test(r)), tampering.join(' | '));
  const errors = await rows('Errors and denials');
  assert.ok(errors.some((r) => /unauthorized VPC creation/.test(r)), `denied VPC creations are among the errors: ${errors.join(' | ')}`);
  await p.close();
});

test('find the peak, brush it, see who talked, pivot on an IP: three actions', async () => {
  const p = await open('#/vpc');
  const canvas = p.locator('.chart.tall canvas').first();
  const box = await canvas.boundingBox();
  assert.ok(box);
  // where the eye finds the peak: the highest point of the bytes line, in page pixels
  const peak = await p.evaluate(() => {
    const chart = (window as unknown as { echarts: { getInstanceByDom(e: Element): { getOption(): { series: { data: [number, number][] }[] }; convertToPixel(f: unknown, v: unknown): number[] } } }).echarts.getInstanceByDom(document.querySelector('.chart.tall')!);
    const data = chart.getOption().series[0]!.data;
    const top = data.reduce((a, b) => (b[1] > a[1] ? b : a));
    const step = data[1]![0] - data[0]![0];
    return { t: top[0], left: chart.convertToPixel({ seriesIndex: 0 }, [top[0] - step, 0])[0]!, right: chart.convertToPixel({ seriesIndex: 0 }, [top[0] + 2 * step, 0])[0]! };
  });
  // 1: drag across the peak
  await p.mouse.move(box.x + peak.left, box.y + box.height / 2);
  await p.mouse.down();
  await p.mouse.move(box.x + peak.right, box.y + box.height / 2, { steps: 8 });
  await p.mouse.up();
  await p.waitForFunction(() => location.hash.includes('from='));
  await pageDrawn(p, 'vpc');
  const hash = await p.evaluate(() => location.hash);
  const from = Number(/from=(\d+)/.exec(hash)?.[1]);
  const to = Number(/to=(\d+)/.exec(hash)?.[1]);
  assert.ok(from <= peak.t && peak.t <= to, `the brushed range ${hash} holds the peak at ${new Date(peak.t).toISOString()}`);
  assert.ok(to - from < 6 * 3_600_000, 'and is narrow');
  const talkers = p.locator('[data-panel^="Who talked"] tbody tr');
  assert.ok((await talkers.count()) > 0, 'top talkers in the brushed range');
  // the generated peak is an exfiltration burst to 192.0.2.200: it tops the list in the narrowed range
  assert.match(await talkers.first().innerText(), /192\.0\.2\.200/);
  // 2: click the first talker's source address
  const ip = await talkers.first().locator('a.ip').first().innerText();
  await talkers.first().locator('a.ip').first().click();
  await p.waitForFunction((x) => location.hash.startsWith(`#/ip/${encodeURIComponent(x)}`), ip);
  await p.waitForSelector('body[data-loaded="ip"]');
  assert.match(await p.locator('main').innerText(), new RegExp(`Everything about ${ip.replace(/\./g, '\\.')}`, 'i'));
  const pivot = await p.evaluate(() => location.hash);
  assert.ok(pivot.includes(`from=${from}`) && pivot.includes(`to=${to}`), `the pivot keeps the brushed range: ${pivot}`);
  await p.close();
});

test('an IP pivot shows its flows and its alerts from every source', async () => {
  const p = await open('#/ip/198.51.100.23');
  const alerts = await p.locator('[data-panel^="Alerts from every source"] tbody').innerText();
  assert.match(alerts, /80641/, 'VPC correlation');
  // the GuardDuty brute-force detection carries its severity band's Wazuh id (80301-80303)
  assert.match(alerts, /\b8030[1-3]\b[^\n]*AWS GuardDuty brute force/, 'GuardDuty brute force');
  assert.ok((await p.locator('[data-panel^="Flows"] tbody tr').count()) > 10);
  await p.close();
});

test('HTML in log fields is shown as text and never runs', async () => {
  const p = await open('#/alerts?q=onerror');
  await p.locator('main tbody tr').first().click();
  await p.waitForSelector('body[data-loaded="alert"]');
  await p.locator('details.raw summary').click();
  const detail = await p.locator('#raw-json').innerText();
  assert.ok(detail.includes('<img src=x onerror=alert(1)>'), 'the payload is visible as text');
  assert.equal(await p.locator('img[src="x"]').count(), 0);
  // the search matches the payload itself (a bare 'script' is in every alert's JSON: "description"), on the first page
  const gd = await open('#/alerts?q=%3Cscript%3E');
  assert.ok((await gd.locator('main').innerText()).includes('<script>alert(1)</script>'));
  assert.equal(await gd.locator('main script').count(), 0);
  await p.waitForTimeout(300);
  assert.deepEqual(dialogs, [], 'no alert() ever ran');
  await p.close();
  await gd.close();
});

test('with a password configured: redirected to sign-in, wrong password refused, right one signs in', async () => {
  const secured = await serve(dataDir, { passwordHash: hashPassword('correct horse battery'), user: 'analyst' });
  try {
    const api = await fetch(`${secured.url}api/overview`);
    assert.equal(api.status, 401);
    const p = await browser.newPage();
    await p.goto(secured.url);
    await p.waitForURL(/login\.html/);
    await p.fill('#user', 'analyst');
    await p.fill('#password', 'wrong');
    await p.click('button[type=submit]');
    await p.waitForFunction(() => document.getElementById('error')?.textContent?.includes('wrong'));
    await p.fill('#password', 'correct horse battery');
    await p.click('button[type=submit]');
    await p.waitForSelector('body[data-loaded="overview"]');
    const cookies = await p.context().cookies();
    const session = cookies.find((c) => c.name === 'tld_session');
    assert.ok(session?.httpOnly && session.secure && session.sameSite === 'Strict');
    const form = await fetch(`${secured.url}api/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'user=analyst&password=x' });
    assert.equal(form.status, 415, 'form posts (CSRF vector) are refused');
    await p.close();
  } finally {
    await secured.close();
  }
});
