/**
 * `npm run screenshots`: regenerates docs/screenshots/*.png from the demo data in headless Chromium, the
 * pictures the README shows. Run it after changing a page.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { demoData, launch, serve } from './dashboard-fixture.js';

const out = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
mkdirSync(out, { recursive: true });
const server = await serve(demoData());
const browser = await launch();
try {
  const range = (await (await fetch(`${server.url}api/range`)).json()) as { min: number; max: number };
  const vpc = (await (await fetch(`${server.url}api/vpc?from=${range.min}&to=${range.max}`)).json()) as { bucketSeconds: number; series: { t: string; bytes: string }[] };
  const peak = vpc.series.reduce((a, b) => (Number(b.bytes) > Number(a.bytes) ? b : a));
  // the demo's SSH brute force, seen by GuardDuty (a finding updated once) and by the VPC rules
  const sshAlert = ((await (await fetch(`${server.url}api/alerts?rule=80301&from=${range.min}&to=${range.max}&q=SSHBruteForce`)).json()) as { id: string }[])[0]!.id;
  const shots: [string, string][] = [
    ['overview', '#/overview'],
    ['vpc', '#/vpc'],
    ['vpc-peak', `#/vpc?from=${Number(peak.t) - 2 * 3_600_000}&to=${Number(peak.t) + 2 * 3_600_000}`],
    ['ip', '#/ip/198.51.100.23'],
    ['guardduty', '#/guardduty'],
    ['cloudtrail', '#/cloudtrail'],
    ['alerts', `#/alerts?q=${encodeURIComponent('level:>=8 NOT source:vpc')}`],
    ['alert-view', `#/alert/${encodeURIComponent(sshAlert)}?from=${range.min}&to=${range.max}`],
    ['instance', `#/instance/i-0dd1ac050b4621dc6?from=${range.min}&to=${range.max}`],
    ['triage', '#/triage'],
  ];
  // `npm run screenshots -- NAME…` regenerates only those pictures
  const only = process.argv.slice(2);
  for (const [name, hash] of shots.filter(([n]) => only.length === 0 || only.includes(n))) {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    await page.goto(`${server.url}${hash}`);
    await page.waitForSelector('body[data-loaded]');
    await page.waitForTimeout(600); // chart animations
    await page.screenshot({ path: `${out}${name}.png`, fullPage: true });
    await page.close();
    process.stdout.write(`docs/screenshots/${name}.png\n`);
  }
} finally {
  await browser.close();
  await server.close();
}
