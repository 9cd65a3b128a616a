/**
 * The two files of a state directory and how to read them back.
 *
 * `snapshot.jsonl` (replaced atomically: temp file, fsync, rename):
 *   line 1   {"format":"tld-state-snapshot","version":2,"salt":"<32 hex>","lookbackDays":N,"written":"<ISO>","checkpoint":{…}}
 *   line 2…  {"scope":{bucket,path,type,account,region,flowLogId},"newestDay":"…","forgottenBefore":"…",
 *             "days":{"YYYY-MM-DD":{"objects":n,"errors":n,"hashes":"<base64 of 8 bytes per object>"}}}
 *   last     {"end":true,"scopes":N}
 * `journal.jsonl` (appended, one fsync per object; emptied by each snapshot):
 *   {"s":0,"scope":{…}}                                     defines scope number 0 of this journal
 *   {"s":0,"d":"YYYY-MM-DD","h":"<16 hex>","st":"ok","c":{…}}  one processed object
 *   {"c":{…}}                                               output sizes recorded without an object
 * A final line without its newline is a write torn by a crash: it is ignored (the object was not reported marked).
 */
import * as crypto from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { OutputCheckpoint } from '../../../shared/sink.js';
import { isDay } from './days.js';
import { StateStoreError } from './errors.js';
import { HashSet64 } from './hash-set64.js';
import { StateModel } from './state-model.js';
import type { ScopeKey } from './types.js';

export const SNAPSHOT_FORMAT = 'tld-state-snapshot';
export const SNAPSHOT_VERSION = 2;
const DAY_SHAPE = /^\d{4}-\d{2}-\d{2}$/;
const HASH_HEX = /^[0-9a-f]{16}$/;

export interface StateFiles {
  snapshot: string;
  journal: string;
  /** written by the first development version; refused rather than silently ignored */
  legacySnapshot: string;
}

/** Paths of the files in a state directory. */
export function stateFiles(dir: string): StateFiles {
  return { snapshot: join(dir, 'snapshot.jsonl'), journal: join(dir, 'journal.jsonl'), legacySnapshot: join(dir, 'snapshot.json') };
}

/**
 * The 64-bit keyed hash of an S3 key, as two 32-bit words: SHA-256(hex salt ‖ key), first 8 bytes.
 * `saltHex` is the store's random salt: without it nobody can make two keys collide on purpose.
 */
export function hashKey(saltHex: string, key: string): [number, number] {
  const input = saltHex + key;
  // crypto.hash (Node ≥ 20.12) is the one-shot form, a third faster than createHash
  const d = typeof crypto.hash === 'function' ? crypto.hash('sha256', input, 'buffer') : crypto.createHash('sha256').update(input).digest();
  return [d.readUInt32BE(0), d.readUInt32BE(4)];
}

export function hashHex(hi: number, lo: number): string {
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/** True for a day string the store accepts: `YYYY-MM-DD` digits (impossible dates are kept, never trusted for the window). */
export function isDayShape(day: unknown): day is string {
  return typeof day === 'string' && DAY_SHAPE.test(day);
}

export function isScopeKey(v: unknown): v is ScopeKey {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return ['bucket', 'path', 'type', 'account', 'region', 'flowLogId'].every((f) => typeof o[f] === 'string');
}

export function isCheckpoint(v: unknown): v is OutputCheckpoint {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  return Object.values(v).every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0);
}

function corrupt(file: string, line: number, what: string): StateStoreError {
  return new StateStoreError(
    'TLD_ERR_STATE_CORRUPT',
    `${file}:${line}: ${what}. The state is damaged and was not used: restore the file from a backup, or move the state directory away to start over (objects inside the look-back window would then be read again).`,
  );
}

function parseLine(file: string, lineNo: number, line: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    throw corrupt(file, lineNo, `not valid JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw corrupt(file, lineNo, 'not a JSON object');
  return v as Record<string, unknown>;
}

/** What `loadState` found on disk. */
export interface LoadedState {
  model: StateModel;
  /** undefined when the directory holds no snapshot yet (a new store) */
  salt: Uint8Array | undefined;
  /** the look-back the snapshot was written with, if any */
  storedLookbackDays: number | undefined;
  snapshotBytes: number;
  journalBytes: number;
  journalLines: number;
  /** bytes of a torn final journal line that were ignored */
  tornBytes: number;
}

interface SnapshotRead {
  text: string;
  ino: number;
}

function readSnapshot(file: string): SnapshotRead | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    return { text: readFileSync(fd, 'utf8'), ino: fstatSync(fd).ino };
  } finally {
    closeSync(fd);
  }
}

function snapshotHeader(file: string, text: string): { salt: Uint8Array; lookbackDays: number; checkpoint: OutputCheckpoint | undefined; lines: string[] } {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const head = parseLine(file, 1, lines[0] ?? '');
  if (head.format !== SNAPSHOT_FORMAT) throw corrupt(file, 1, `not a ThreatLockDown state snapshot (format ${JSON.stringify(head.format)})`);
  if (head.version !== SNAPSHOT_VERSION) throw corrupt(file, 1, `snapshot version ${JSON.stringify(head.version)} is not supported (expected ${SNAPSHOT_VERSION})`);
  if (typeof head.salt !== 'string' || !/^[0-9a-f]{32}$/.test(head.salt)) throw corrupt(file, 1, 'salt is missing or malformed');
  if (typeof head.lookbackDays !== 'number' || !Number.isInteger(head.lookbackDays) || head.lookbackDays < 0) throw corrupt(file, 1, 'lookbackDays is missing or malformed');
  if (head.checkpoint !== undefined && !isCheckpoint(head.checkpoint)) throw corrupt(file, 1, 'checkpoint is malformed');
  return { salt: Buffer.from(head.salt, 'hex'), lookbackDays: head.lookbackDays, checkpoint: head.checkpoint, lines };
}

function loadSnapshotScopes(file: string, lines: string[], model: StateModel): void {
  const last = lines.length;
  const trailer = parseLine(file, last, lines[last - 1] ?? '');
  if (trailer.end !== true) throw corrupt(file, last, 'the snapshot is truncated (no end line)');
  if (trailer.scopes !== last - 2) throw corrupt(file, last, `the end line announces ${String(trailer.scopes)} scopes but ${last - 2} were read`);
  for (let i = 1; i < last - 1; i++) {
    const lineNo = i + 1;
    const rec = parseLine(file, lineNo, lines[i] as string);
    if (!isScopeKey(rec.scope)) throw corrupt(file, lineNo, 'scope is missing or malformed');
    if (rec.newestDay !== undefined && !isDay(rec.newestDay)) throw corrupt(file, lineNo, 'newestDay is malformed');
    if (rec.forgottenBefore !== undefined && !isDay(rec.forgottenBefore)) throw corrupt(file, lineNo, 'forgottenBefore is malformed');
    if (typeof rec.days !== 'object' || rec.days === null || Array.isArray(rec.days)) throw corrupt(file, lineNo, 'days is missing or malformed');
    const s = model.obtain(rec.scope);
    model.setNewestDay(s, rec.newestDay as string | undefined);
    s.forgottenBefore = rec.forgottenBefore as string | undefined;
    for (const [day, v] of Object.entries(rec.days as Record<string, unknown>)) {
      const d = v as { objects?: unknown; errors?: unknown; hashes?: unknown };
      if (!isDayShape(day) || typeof d !== 'object' || d === null) throw corrupt(file, lineNo, `day ${JSON.stringify(day)} is malformed`);
      if (typeof d.hashes !== 'string' || typeof d.objects !== 'number' || typeof d.errors !== 'number') throw corrupt(file, lineNo, `day ${day} lacks hashes, objects or errors`);
      const bytes = Buffer.from(d.hashes, 'base64');
      if (bytes.length !== d.objects * 8) throw corrupt(file, lineNo, `day ${day} holds ${bytes.length / 8} hashes but says ${d.objects}`);
      const hashes = HashSet64.fromBytes(bytes);
      if (hashes.size !== d.objects) throw corrupt(file, lineNo, `day ${day} repeats hashes`);
      s.days.set(day, { hashes, errors: d.errors });
    }
    model.prune(s);
  }
}

function loadJournal(file: string, text: string, model: StateModel, salt: Uint8Array | undefined, snapshotFile: string): { lines: number; torn: number } {
  const end = text.lastIndexOf('\n');
  const torn = text.length - end - 1;
  if (end < 0) return { lines: 0, torn };
  if (!salt) throw new StateStoreError('TLD_ERR_STATE_CORRUPT', `${file} holds processed objects but ${snapshotFile} is missing; the state is incomplete and was not used: restore the snapshot from a backup, or move the state directory away to start over.`);
  const refs: ScopeKey[] = [];
  let lineNo = 0;
  let start = 0;
  while (start <= end) {
    const nl = text.indexOf('\n', start);
    const line = text.slice(start, nl);
    start = nl + 1;
    lineNo++;
    if (line === '') continue;
    const rec = parseLine(file, lineNo, line);
    if (rec.s === undefined && rec.c !== undefined) {
      if (!isCheckpoint(rec.c)) throw corrupt(file, lineNo, 'checkpoint "c" is malformed');
      model.checkpoint = rec.c;
      continue;
    }
    const ref = rec.s;
    if (typeof ref !== 'number' || !Number.isInteger(ref) || ref < 0) throw corrupt(file, lineNo, 'scope number "s" is missing or malformed');
    if (rec.scope !== undefined) {
      if (!isScopeKey(rec.scope)) throw corrupt(file, lineNo, 'scope is malformed');
      refs[ref] = rec.scope;
      continue;
    }
    const scope = refs[ref];
    if (!scope) throw corrupt(file, lineNo, `scope number ${ref} is not defined on an earlier line`);
    if (!isDayShape(rec.d)) throw corrupt(file, lineNo, 'day "d" is missing or malformed');
    if (typeof rec.h !== 'string' || !HASH_HEX.test(rec.h)) throw corrupt(file, lineNo, 'hash "h" is missing or malformed');
    if (rec.st !== 'ok' && rec.st !== 'error') throw corrupt(file, lineNo, 'status "st" is missing or malformed');
    if (rec.c !== undefined && !isCheckpoint(rec.c)) throw corrupt(file, lineNo, 'checkpoint "c" is malformed');
    model.apply(model.obtain(scope), rec.d, parseInt(rec.h.slice(0, 8), 16), parseInt(rec.h.slice(8), 16), rec.st);
    if (rec.c !== undefined) model.checkpoint = rec.c;
  }
  return { lines: lineNo, torn };
}

/**
 * Reads a state directory into memory without changing it. `lookbackDays` defaults to the one the snapshot was
 * written with (1 for a new store). Throws TLD_ERR_STATE_CORRUPT naming the file and line of any damage.
 */
export function loadState(dir: string, opts: { lookbackDays?: number; now: () => Date }): LoadedState {
  const files = stateFiles(dir);
  if (!existsSync(files.snapshot) && existsSync(files.legacySnapshot)) {
    throw new StateStoreError('TLD_ERR_STATE_CORRUPT', `${files.legacySnapshot} was written by an early development version whose format is not read any more; move the state directory away to start over.`);
  }
  // A concurrent compaction (describeState runs without the lock) replaces the snapshot before it empties the
  // journal: if the snapshot changed while we read the journal, read both again.
  for (let attempt = 0; ; attempt++) {
    const snap = readSnapshot(files.snapshot);
    const head = snap ? snapshotHeader(files.snapshot, snap.text) : undefined;
    const model = new StateModel(opts.lookbackDays ?? head?.lookbackDays ?? 1, opts.now);
    if (snap && head) {
      model.checkpoint = head.checkpoint;
      loadSnapshotScopes(files.snapshot, head.lines, model);
    }
    let journalText = '';
    try {
      journalText = readFileSync(files.journal, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const journal = loadJournal(files.journal, journalText, model, head?.salt, files.snapshot);
    let ino: number | undefined;
    try {
      ino = statSync(files.snapshot).ino;
    } catch {
      ino = undefined;
    }
    if (ino !== snap?.ino && attempt < 5) continue;
    return {
      model,
      salt: head?.salt,
      storedLookbackDays: head?.lookbackDays,
      snapshotBytes: Buffer.byteLength(snap?.text ?? ''),
      journalBytes: Buffer.byteLength(journalText),
      journalLines: journal.lines,
      tornBytes: journal.torn,
    };
  }
}

/** The snapshot text of `model`. */
export function snapshotText(model: StateModel, salt: Uint8Array): string {
  const head = {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    salt: Buffer.from(salt).toString('hex'),
    lookbackDays: model.lookbackDays,
    written: model.now().toISOString(),
    ...(model.checkpoint ? { checkpoint: model.checkpoint } : {}),
  };
  const out = [JSON.stringify(head)];
  for (const s of model.scopes.values()) {
    const days: Record<string, { objects: number; errors: number; hashes: string }> = {};
    for (const [day, d] of s.days) days[day] = { objects: d.hashes.size, errors: d.errors, hashes: Buffer.from(d.hashes.toBytes()).toString('base64') };
    out.push(JSON.stringify({ scope: s.scope, ...(s.newestDay ? { newestDay: s.newestDay } : {}), ...(s.forgottenBefore ? { forgottenBefore: s.forgottenBefore } : {}), days }));
  }
  out.push(JSON.stringify({ end: true, scopes: model.scopes.size }));
  return `${out.join('\n')}\n`;
}

/** Journal line defining scope number `ref` for the rest of the journal. */
export function scopeLine(ref: number, scope: ScopeKey): string {
  return `${JSON.stringify({ s: ref, scope })}\n`;
}

/** Journal line of output sizes recorded on their own. */
export function checkpointLine(checkpoint: OutputCheckpoint): string {
  return `${JSON.stringify({ c: checkpoint })}\n`;
}

/** Journal line of one processed object (`day` must pass isDayShape). */
export function markLine(ref: number, day: string, hi: number, lo: number, status: 'ok' | 'error', checkpoint: OutputCheckpoint | undefined): string {
  return `{"s":${ref},"d":"${day}","h":"${hashHex(hi, lo)}","st":"${status}"${checkpoint ? `,"c":${JSON.stringify(checkpoint)}` : ''}}\n`;
}
