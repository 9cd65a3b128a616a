/**
 * The collector's state on disk: an append-only journal (one line per processed object, fsynced before
 * `markProcessed` returns) plus a snapshot rewritten when the journal grows. Per scope it keeps the newest
 * day folder read and, for each day inside the look-back window, the set of 64-bit hashes of the keys read
 * there. Days that leave the window are dropped, so the state grows with scopes × window, never with the
 * number of objects ever read. See README.md in this folder for the reasoning.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync, writeFileSync, ftruncateSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { OutputCheckpoint } from '../../../shared/sink.js';
import type { MarkInfo, ScopeKey, StateStore } from './types.js';

export class StateStoreError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'StateStoreError';
    this.code = code;
  }
}

interface ScopeState {
  scope: ScopeKey;
  newestDay: string | undefined;
  days: Map<string, Set<string>>;
}

interface Snapshot {
  version: 1;
  lastCheckpoint?: OutputCheckpoint;
  scopes: { scope: ScopeKey; newestDay?: string; days: Record<string, string[]> }[];
}

const COMPACT_EVERY = 20_000;

export function scopeId(s: ScopeKey): string {
  return [s.bucket, s.path, s.type, s.account, s.region, s.flowLogId].join('\u0000');
}

export function keyHash(key: string): string {
  return createHash('sha1').update(key).digest('hex').slice(0, 16);
}

function shiftDay(day: string, days: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface StateStoreOptions {
  lookbackDays?: number;
  /** fsync every mark (default true) */
  fsync?: boolean;
}

class FileStateStore implements StateStore {
  readonly #dir: string;
  readonly #lookback: number;
  readonly #fsync: boolean;
  readonly #scopes = new Map<string, ScopeState>();
  #lastCheckpoint: OutputCheckpoint | undefined;
  #journalFd: number;
  #journalLines = 0;
  readonly #lockFile: string;

  constructor(dir: string, opts: StateStoreOptions) {
    this.#dir = dir;
    this.#lookback = opts.lookbackDays ?? 1;
    this.#fsync = opts.fsync ?? true;
    mkdirSync(dir, { recursive: true });
    this.#lockFile = join(dir, 'lock');
    this.#lock();
    this.#load();
    this.#compact();
    this.#journalFd = openSync(join(dir, 'journal.jsonl'), 'a');
  }

  #lock(): void {
    if (existsSync(this.#lockFile)) {
      const pid = Number(readFileSync(this.#lockFile, 'utf8').trim());
      if (Number.isInteger(pid) && pid !== process.pid && pidAlive(pid)) {
        throw new StateStoreError('TLD_ERR_STATE_LOCKED', `the state in ${this.#dir} is in use by process ${pid}; stop it first (one collector per data directory)`);
      }
    }
    writeFileSync(this.#lockFile, String(process.pid));
  }

  #scope(scope: ScopeKey): ScopeState {
    const id = scopeId(scope);
    let s = this.#scopes.get(id);
    if (!s) {
      s = { scope: { ...scope }, newestDay: undefined, days: new Map() };
      this.#scopes.set(id, s);
    }
    return s;
  }

  #apply(s: ScopeState, day: string, hash: string): void {
    if (s.newestDay === undefined || day > s.newestDay) s.newestDay = day;
    const windowStart = shiftDay(s.newestDay, -this.#lookback);
    if (day >= windowStart) {
      let set = s.days.get(day);
      if (!set) s.days.set(day, (set = new Set()));
      set.add(hash);
    }
    for (const d of s.days.keys()) if (d < windowStart) s.days.delete(d);
  }

  #load(): void {
    const snapFile = join(this.#dir, 'snapshot.json');
    if (existsSync(snapFile)) {
      let snap: Snapshot;
      try {
        snap = JSON.parse(readFileSync(snapFile, 'utf8')) as Snapshot;
      } catch (e) {
        throw new StateStoreError('TLD_ERR_STATE_CORRUPT', `${snapFile} is not valid JSON (${(e as Error).message}); restore it from a backup or move it away to start over (objects would then be read again)`);
      }
      this.#lastCheckpoint = snap.lastCheckpoint;
      for (const entry of snap.scopes) {
        const s = this.#scope(entry.scope);
        s.newestDay = entry.newestDay;
        for (const [day, hashes] of Object.entries(entry.days)) s.days.set(day, new Set(hashes));
      }
    }
    const journal = join(this.#dir, 'journal.jsonl');
    if (!existsSync(journal)) return;
    const lines = readFileSync(journal, 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (!line) continue;
      let rec: { s: ScopeKey; d: string; h: string; c?: OutputCheckpoint };
      try {
        rec = JSON.parse(line) as typeof rec;
      } catch (e) {
        if (i === lines.length - 1 || (i === lines.length - 2 && lines[lines.length - 1] === '')) continue; // torn last write after a crash
        throw new StateStoreError('TLD_ERR_STATE_CORRUPT', `${journal}:${i + 1} is not valid JSON (${(e as Error).message}); the state file is damaged`);
      }
      this.#apply(this.#scope(rec.s), rec.d, rec.h);
      if (rec.c) this.#lastCheckpoint = rec.c;
    }
  }

  #compact(): void {
    const snap: Snapshot = { version: 1, ...(this.#lastCheckpoint ? { lastCheckpoint: this.#lastCheckpoint } : {}), scopes: [] };
    for (const s of this.#scopes.values()) {
      const days: Record<string, string[]> = {};
      for (const [d, set] of s.days) days[d] = [...set];
      snap.scopes.push({ scope: s.scope, ...(s.newestDay ? { newestDay: s.newestDay } : {}), days });
    }
    const tmp = join(this.#dir, 'snapshot.json.tmp');
    const fd = openSync(tmp, 'w');
    writeSync(fd, JSON.stringify(snap));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, join(this.#dir, 'snapshot.json'));
    const journal = join(this.#dir, 'journal.jsonl');
    if (existsSync(journal)) {
      const jfd = openSync(journal, 'r+');
      ftruncateSync(jfd, 0);
      fsyncSync(jfd);
      closeSync(jfd);
    }
    this.#journalLines = 0;
  }

  isProcessed(scope: ScopeKey, day: string, key: string, opts: { exact?: boolean } = {}): boolean {
    const s = this.#scopes.get(scopeId(scope));
    if (!s || s.newestDay === undefined) return false;
    if (day < shiftDay(s.newestDay, -this.#lookback)) return !opts.exact;
    return s.days.get(day)?.has(keyHash(key)) ?? false;
  }

  markProcessed(scope: ScopeKey, day: string, key: string, info: MarkInfo): void {
    const hash = keyHash(key);
    const line = JSON.stringify({ s: scope, d: day, h: hash, st: info.status, ...(info.checkpoint ? { c: info.checkpoint } : {}) });
    writeSync(this.#journalFd, `${line}\n`);
    if (this.#fsync) fsyncSync(this.#journalFd);
    this.#apply(this.#scope(scope), day, hash);
    if (info.checkpoint) this.#lastCheckpoint = info.checkpoint;
    if (++this.#journalLines >= COMPACT_EVERY) this.#compact();
  }

  newestDay(scope: ScopeKey): string | undefined {
    return this.#scopes.get(scopeId(scope))?.newestDay;
  }

  lastCheckpoint(): OutputCheckpoint | undefined {
    return this.#lastCheckpoint;
  }

  scopes(): ScopeKey[] {
    return [...this.#scopes.values()].map((s) => s.scope);
  }

  /** Number of key hashes held in memory (for tests and metrics). */
  entries(): number {
    let n = 0;
    for (const s of this.#scopes.values()) for (const set of s.days.values()) n += set.size;
    return n;
  }

  close(): void {
    this.#compact();
    closeSync(this.#journalFd);
    try {
      if (readFileSync(this.#lockFile, 'utf8').trim() === String(process.pid)) unlinkSync(this.#lockFile);
    } catch {
      // already gone
    }
  }
}

/** Opens (creating if needed) the state store in `dir`. Throws StateStoreError when locked or damaged. */
export function openStateStore(dir: string, opts: StateStoreOptions = {}): StateStore & { entries(): number } {
  return new FileStateStore(dir, opts);
}
