#!/usr/bin/env node
// Copies the non-TypeScript files the program reads at run time (shipped rules and lists, web assets) from
// src/ to dist/, after `tsc` compiled the code.
import { cpSync, existsSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
for (const dir of ['analysis/ruleset', 'dashboard/web']) {
  if (existsSync(`${root}src/${dir}`)) cpSync(`${root}src/${dir}`, `${root}dist/${dir}`, { recursive: true, filter: (p) => !p.endsWith('.ts') });
}
