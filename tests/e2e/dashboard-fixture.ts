/** Shared by the browser tests and the screenshot script: demo data in a temp dir, served on a random port. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pino } from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { openStore, type Store } from '../../src/store/index.js';
import { startDashboard } from '../../src/dashboard/server.js';
import type { DashboardConfig } from '../../src/config/types.js';

const bin = new URL('../../bin/tld.js', import.meta.url).pathname;

/** Runs `tld demo --no-serve` into a fresh folder (generated logs, collected, analysed, stored). */
export function demoData(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'tld-e2e-')), 'demo');
  const r = spawnSync(process.execPath, [bin, 'demo', '-d', dir, '--no-serve', '--no-progress'], { encoding: 'utf8', env: { ...process.env, TLD_LOG_LEVEL: 'error' } });
  if (r.status !== 0) throw new Error(`tld demo failed: ${r.stderr}`);
  return dir;
}

export async function serve(dataDir: string, config: Partial<DashboardConfig> = {}): Promise<{ url: string; store: Store; close(): Promise<void> }> {
  const store = await openStore(dataDir, { flowRetentionDays: 0, alertRetentionDays: 0 }, { readOnly: true });
  const server = await startDashboard({ store, config: { host: '127.0.0.1', port: 0, user: 'admin', ...config }, logger: pino({ level: 'silent' }) });
  return { url: server.url, store, close: async () => { await server.close(); await store.close(); } };
}

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Waits until the page named is drawn for the address now in the bar: after a search or a click the previous
 * page's "loaded" mark is still there until the new address's render starts.
 */
export async function pageDrawn(p: Page, page: string): Promise<void> {
  await p.waitForFunction((name) => document.body.dataset.loaded === name && document.body.dataset.hash === location.hash, page);
}
