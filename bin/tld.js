#!/usr/bin/env node
// Entry point of the `tld` command. Runs the compiled CLI from dist/ (built by `npm install` through the
// `prepare` script). In a checkout whose sources are newer than that build, it runs the TypeScript sources
// directly (through tsx), so `npx tld` never runs stale code.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = join(root, 'dist', 'cli', 'main.js');
const sources = join(root, 'src');

function newestMtime(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    newest = Math.max(newest, s.isDirectory() ? newestMtime(p) : s.mtimeMs);
  }
  return newest;
}

async function runSources() {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(join(sources, 'cli', 'main.ts')).href);
}

if (!existsSync(compiled)) {
  await runSources();
} else if (existsSync(sources) && newestMtime(sources) > statSync(compiled).mtimeMs) {
  try {
    await runSources();
  } catch (e) {
    if (e && e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('tsx')) await import(pathToFileURL(compiled).href);
    else throw e;
  }
} else {
  await import(pathToFileURL(compiled).href);
}
