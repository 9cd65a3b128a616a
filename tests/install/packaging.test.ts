/**
 * What `npm ci` and `engines` promise a user: the lock file installs with `npm ci` as committed (CI uses it), and
 * the Node.js versions package.json claims are ones every installed dependency accepts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import semver from 'semver';

const root = new URL('../../', import.meta.url).pathname;

test('npm ci accepts the committed lock file (every platform’s optional packages are in it)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tld-npm-ci-'));
  try {
    copyFileSync(join(root, 'package.json'), join(dir, 'package.json'));
    copyFileSync(join(root, 'package-lock.json'), join(dir, 'package-lock.json'));
    const r = spawnSync('npm', ['ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, `npm ci refused the lock file:\n${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Every installed package folder under node_modules (scoped ones included, nested node_modules too). */
function* packages(dir: string): Generator<string> {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    if (name.startsWith('.')) continue;
    const p = join(dir, name);
    if (name.startsWith('@')) {
      for (const sub of readdirSync(p)) yield* packageAt(join(p, sub));
    } else yield* packageAt(p);
  }
}
function* packageAt(p: string): Generator<string> {
  if (existsSync(join(p, 'package.json'))) yield p;
  yield* packages(join(p, 'node_modules'));
}

test("engines is truthful: every Node.js version package.json accepts is accepted by each runtime dependency", () => {
  const ours = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; optional?: boolean }> };
  const refusing: string[] = [];
  for (const dir of packages(join(root, 'node_modules'))) {
    const rel = dir.slice(root.length);
    const entry = lock.packages[rel];
    if (!entry || entry.dev) continue; // test and build tools do not run where users run tld
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; version: string; engines?: { node?: string } };
    const theirs = pkg.engines?.node;
    if (theirs && semver.validRange(theirs) && !semver.subset(ours, theirs)) refusing.push(`${pkg.name}@${pkg.version} needs node ${theirs}`);
  }
  assert.deepEqual(refusing, [], `engines.node is "${ours}"`);
});
