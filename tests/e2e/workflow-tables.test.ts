/**
 * The analyst's tables and charts in real headless Chromium over the demo's data (issue 15, items 3–5):
 * drag-to-zoom on every time chart, auto-refresh that picks up new data, tables (N of M, pages, sorting,
 * CSV/NDJSON export with formula cells neutralised), charts at 1024 px (legends clear of the plot,
 * whole-number count axes, colours that follow the series name).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Browser, Page } from 'playwright-core';
import { openStore } from '../../src/store/index.js';
import { startDashboard } from '../../src/dashboard/server.js';
import { demoData, launch, serve, pageDrawn } from './dashboard-fixture.js';

let dataDir: string;
let browser: Browser;
let server: Awaited<ReturnType<typeof serve>>;
let range: { min: number; max: number };

before(async () => {
  dataDir = demoData();
  server = await serve(dataDir);
  browser = await launch();
  range = (await (await fetch(`${server.url}api/range`)).json()) as typeof range;
});
after(async () => {
  await browser?.close();
  await server?.close();
});

async function open(path: string, width = 1400, url = server.url): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height: 1000 }, acceptDownloads: true });
  await page.goto(`${url}${path}`);
  await page.waitForSelector('body[data-loaded]');
  return page;
}
const hashOf = (p: Page) => p.evaluate(() => location.hash);
/** waits for the page named to be drawn after a navigation */
async function loaded(p: Page, page: string, hashPart?: string) {
  if (hashPart) await p.waitForFunction((x) => location.hash.includes(x), hashPart);
  await pageDrawn(p, page);
}

test('item 3: drag-to-zoom on every time chart sets the global range', async () => {
  // a drag on one time chart of each page; every other time chart is checked to take the same drag
  for (const [page, nth] of [['overview', 1], ['vpc', 0], ['guardduty', 2]] as const) {
    const p = await open(`#/${page}`);
    const brushable = await p.evaluate(`[...document.querySelectorAll('.chart')].map((box) => { const o = echarts.getInstanceByDom(box).getOption(); return o.xAxis?.[0]?.type !== 'time' || (o.brush?.[0]?.brushType === 'lineX'); })`) as boolean[];
    assert.ok(brushable.length > 0 && brushable.every(Boolean), `${page}: every time chart takes a drag: ${brushable}`);
    const box = await p.locator('.chart canvas').nth(nth).boundingBox();
    assert.ok(box);
    const y = box.y + box.height / 2;
    await p.mouse.move(box.x + box.width * 0.4, y);
    await p.mouse.down();
    await p.mouse.move(box.x + box.width * 0.7, y, { steps: 6 });
    await p.mouse.up();
    await loaded(p, page, 'from=');
    const hash = await hashOf(p);
    const from = Number(/from=(\d+)/.exec(hash)?.[1]);
    const to = Number(/to=(\d+)/.exec(hash)?.[1]);
    assert.ok(range.min <= from && from < to && to <= range.max + 86_400_000 && to - from < range.max - range.min, `${page}: ${hash}`);
    await p.goBack();
    await loaded(p, page);
    assert.ok(!(await hashOf(p)).includes('from='), 'back: the range before the drag');
    await p.close();
  }
});

test('item 4: tables say N of M, page on the server, sort by a column', async () => {
  const p = await open('#/alerts');
  const total = (await (await fetch(`${server.url}api/list/alerts?from=${range.min}&to=${range.max}`)).json()).total as number;
  assert.ok(total > 50, `more alerts than a page: ${total}`);
  assert.equal(await p.locator('[data-count]').innerText(), `1–50 of ${total}`);
  assert.equal(await p.locator('main tbody tr').count(), 50);
  const first = await p.locator('main tbody tr').first().innerText();
  await p.click('button.next');
  await p.waitForFunction((t) => document.querySelector('[data-count]')?.textContent === t, `51–${Math.min(100, total)} of ${total}`);
  assert.notEqual(await p.locator('main tbody tr').first().innerText(), first);
  await p.click('th[data-sort="level"]');
  await p.waitForFunction(() => document.querySelector('th[data-sort="level"]')?.getAttribute('aria-sort') === 'descending');
  const levels = (await p.locator('main tbody tr td:nth-child(2)').allInnerTexts()).map(Number);
  assert.deepEqual(levels, [...levels].sort((a, b) => b - a));
  assert.equal(await p.locator('[data-count]').innerText(), `1–50 of ${total}`, 'a new sort starts at the first page');
  await p.click('th[data-sort="level"]');
  await p.waitForFunction(() => document.querySelector('th[data-sort="level"]')?.getAttribute('aria-sort') === 'ascending');
  const up = (await p.locator('main tbody tr td:nth-child(2)').allInnerTexts()).map(Number);
  assert.deepEqual(up, [...up].sort((a, b) => a - b));
  // a small fixed table sorts in the browser
  const o = await open('#/overview');
  const rules = o.locator('[data-panel="Top rules"]');
  await rules.locator('th[data-sort="rule_id"]').click();
  const ids = await rules.locator('tbody tr td:first-child').allInnerTexts();
  assert.deepEqual(ids, [...ids].sort().reverse());
  await p.close();
  await o.close();
});

test('items 3 and 4: auto-refresh picks up newly collected data; export is what is shown, formulas neutralised', async () => {
  // a writable copy of the demo store, served while "the collector" adds an alert
  const dir = join(mkdtempSync(join(tmpdir(), 'tld-e2e-rw-')), 'demo');
  cpSync(join(dataDir, 'store'), join(dir, 'store'), { recursive: true });
  const store = await openStore(dir, { flowRetentionDays: 0, alertRetentionDays: 0 });
  const dash = await startDashboard({ store, config: { host: '127.0.0.1', port: 0, user: 'admin' }, logger: pino({ level: 'silent' }) });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    await page.clock.install();
    await page.goto(`${dash.url}#/alerts?refresh=10s&q=rule%3A99999`);
    await page.waitForSelector('body[data-loaded="alerts"]');
    assert.equal(await page.locator('[data-count]').innerText(), '0 of 0');
    assert.equal(await page.inputValue('#refresh'), '10s');
    const payload = '=HYPERLINK("http://example.invalid/x","click")';
    await store.query(`INSERT INTO alerts (id, ts, level, rule_id, description, source, json) VALUES ('new-1', make_timestamp($1::BIGINT * 1000), 7, '99999', $2, 'vpc', '{}')`, [range.max, payload]);
    await page.clock.fastForward(10_500);
    await page.waitForFunction(() => document.querySelector('[data-count]')?.textContent === '1–1 of 1');
    assert.equal(await page.locator('main tbody tr td:nth-child(5)').innerText(), payload, 'shown as text');
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('button.export-csv')]);
    const text = readFileSync((await csv.path())!, 'utf8');
    const lines = text.trimEnd().split('\r\n');
    assert.equal(lines[0], 'Time,Level,Rule,Source,Description,IP,Account');
    assert.equal(lines.length, 2, 'the rows shown');
    assert.ok(lines[1]!.includes(`"'=HYPERLINK(""http://example.invalid/x"",""click"")"`), lines[1]);
    const [nd] = await Promise.all([page.waitForEvent('download'), page.click('button.export-ndjson')]);
    const rows = readFileSync((await nd.path())!, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(rows.map((r) => [r.id, r.description]), [['new-1', payload]]);
    await page.close();
  } finally {
    await dash.close();
    await store.close();
  }
});

test('item 5 at 1024 px: legends clear of the plot, count axes in whole numbers, colours follow the series name', async () => {
  type Check = { legend: number[]; plot: number[]; fractional: number[]; colours: Record<string, string> }[];
  // plain JavaScript text: the TypeScript loader would add helpers the page does not have
  const inspect = (p: Page) => p.evaluate(`(() => {
    const rectOf = function (view) {
      const r = view.group.getBoundingRect().clone();
      r.applyTransform(view.group.transform);
      return [r.x, r.y, r.x + r.width, r.y + r.height];
    };
    return [...document.querySelectorAll('.chart')].map(function (box) {
      const c = echarts.getInstanceByDom(box);
      const model = c.getModel();
      const legendModel = model.getComponent('legend');
      const legend = legendModel ? rectOf(c.getViewOfComponentModel(legendModel)) : [];
      const series = model.getSeries();
      let plot;
      if (series[0] && series[0].type === 'series.pie') plot = rectOf(c.getViewOfSeriesModel(series[0]));
      else { const r = model.getComponent('grid').coordinateSystem.getRect(); plot = [r.x, r.y, r.x + r.width, r.y + r.height]; }
      const fractional = [];
      for (let i = 0; model.getComponent('yAxis', i); i++) for (const t of model.getComponent('yAxis', i).axis.scale.getTicks()) if (!Number.isInteger(t.value)) fractional.push(t.value);
      const colours = {};
      for (const s of series) if (s.type !== 'series.pie') colours[s.name] = c.getVisual({ seriesIndex: s.seriesIndex }, 'color');
      return { legend, plot, fractional, colours };
    });
  })()`) as Promise<Check>;
  const seen: Record<string, string> = {};
  for (const hash of ['#/overview', '#/vpc', '#/guardduty', `#/overview?from=${range.max - 3 * 3_600_000}&to=${range.max}`]) {
    const p = await open(hash, 1024);
    const charts = await inspect(p);
    assert.ok(charts.length > 0);
    for (const [i, c] of charts.entries()) {
      if (c.legend.length) {
        const [l, pl] = [c.legend, c.plot];
        const overlap = l[0]! < pl[2]! && pl[0]! < l[2]! && l[1]! < pl[3]! && pl[1]! < l[3]!;
        assert.ok(!overlap, `${hash} chart ${i}: legend ${l.map(Math.round)} overlaps the plot ${pl.map(Math.round)}`);
      }
      assert.deepEqual(c.fractional, [], `${hash} chart ${i}: whole-number ticks`);
      for (const [name, colour] of Object.entries(c.colours)) {
        if (seen[name]) assert.equal(colour, seen[name], `${name} keeps its colour on ${hash}`);
        seen[name] = colour;
      }
    }
    await p.close();
  }
  assert.ok(Object.keys(seen).length >= 6, Object.keys(seen).join(', '));
});

