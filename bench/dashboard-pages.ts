/**
 * The analyst's pages in real headless Chromium on the dashboard bench's store (issue 15: every page works on the
 * benchmark's 100M-flow store, not only on the demo's data). The app is loaded once; each page is then opened by
 * changing the address (as a click does) for each of the bench's ranges, and timed until the page says it is
 * drawn for that address (`body[data-loaded][data-hash]`, as the browser tests wait): its API answers, charts and
 * tables. A page that shows "Could not load", gets an error answer or throws fails the bench, because its figure
 * would time an error message.
 */
import { pino } from 'pino';
import type { Browser } from 'playwright-core';
import type { Store } from '../src/store/index.js';
import type { Range } from '../src/dashboard/queries.js';
import { startDashboard } from '../src/dashboard/server.js';
import { launch } from '../tests/e2e/dashboard-fixture.js';

/** The pages, with values the bench's data holds (bench/worker.ts and bench/analyst-dashboard.ts fill them). */
export const PAGES: [name: string, page: string, path: string][] = [
  ['overview', 'overview', '#/overview'],
  ['VPC', 'vpc', '#/vpc'],
  ['IP', 'ip', '#/ip/10.0.3.17'],
  ['GuardDuty', 'guardduty', '#/guardduty'],
  ['alert search', 'alerts', `#/alerts?q=${encodeURIComponent('level:>=8 AND ip:10.0.0.0/16 NOT rule:80601,80602 "port 22"')}`],
  ['account', 'account', '#/account/111111111111'],
  ['ENI', 'eni', '#/eni/eni-7'],
  ['port', 'port', '#/port/22'],
  ['instance', 'instance', '#/instance/i-7'],
  ['rule', 'rule', '#/rule/80641'],
  ['finding', 'finding', '#/finding/finding-7'],
  ['alert', 'alert', '#/alert/bench-4100'],
  ['triage', 'triage', '#/triage'],
];

/** `#/page?x=1` with the range added to its query */
function withRange(path: string, r: Range): string {
  const [hash, query] = path.split('?');
  const params = new URLSearchParams(query);
  params.set('from', String(r.from));
  params.set('to', String(r.to));
  return `${hash}?${params.toString()}`;
}

/** p50 and p95 (ms) of each page over `ranges`, after one untimed visit of each (caches, compilation). */
export async function measurePages(store: Store, ranges: Range[], pages = PAGES): Promise<Record<string, { p50: number; p95: number }>> {
  const server = await startDashboard({ store, config: { host: '127.0.0.1', port: 0, user: 'admin' }, logger: pino({ level: 'silent' }) });
  let browser: Browser | undefined;
  try {
    browser = await launch();
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    // a failed API answer (the browser has no favicon to ask for: its 404 is no failure of a page)
    page.on('response', (res) => {
      if (res.status() >= 400 && !res.url().endsWith('/favicon.ico')) problems.push(`${res.status()} from ${res.url()}`);
    });
    // the app is loaded once; each visit changes the address as a click does (no reload of the app's scripts)
    await page.goto(`${server.url}#/overview`);
    await page.waitForSelector('body[data-loaded]', { timeout: 120_000 });
    let visits = 0;
    const visit = async (name: string, pageName: string, path: string): Promise<number> => {
      // a unique address each time (the same range twice would not change the address, and draw nothing)
      const hash = `${path}&visit=${++visits}`;
      const t = process.hrtime.bigint();
      await page.evaluate((h) => {
        location.hash = h;
      }, hash);
      await page.waitForFunction((n) => document.body.dataset.loaded === n && document.body.dataset.hash === location.hash, pageName, { timeout: 120_000 });
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      const failed = await page.locator('main p.lvl-high', { hasText: 'Could not load' }).count();
      if (failed || problems.length) throw new Error(`the ${name} page (${hash}) did not draw: ${failed ? await page.locator('main p.lvl-high').first().textContent() : problems.join('; ')}`);
      return ms;
    };
    const out: Record<string, { p50: number; p95: number }> = {};
    for (const [name, pageName, path] of pages) {
      await visit(name, pageName, withRange(path, ranges[0]!));
      const ms: number[] = [];
      for (const r of ranges) ms.push(await visit(name, pageName, withRange(path, r)));
      ms.sort((a, b) => a - b);
      out[name] = { p50: Math.round(ms[Math.floor(ms.length * 0.5)]!), p95: Math.round(ms[Math.ceil(ms.length * 0.95) - 1]!) };
    }
    return out;
  } finally {
    await browser?.close();
    await server.close();
  }
}
