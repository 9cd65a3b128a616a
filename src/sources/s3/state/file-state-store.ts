/**
 * The collector's state on disk (see README.md in this folder): an append-only journal, one line per processed
 * object, fsynced before `markProcessed` returns, plus a snapshot rewritten (temp file, fsync, rename) whenever
 * the journal outgrows it. Per scope it keeps the newest day read and, for each day inside the look-back window,
 * the exact set of 64-bit keyed hashes of the keys read there; days leaving the window are dropped, so the state
 * grows with scopes × days in the window, never with the number of objects ever read.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, ftruncateSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import type { OutputCheckpoint } from '../../../shared/sink.js';
import { shiftDay } from './days.js';
import { StateStoreError } from './errors.js';
import { acquireLock, lockState, readLockHolder, releaseLock, type LockHolder } from './lock.js';
import { checkpointLine, hashKey, isCheckpoint, isDayShape, isScopeKey, loadState, markLine, scopeLine, snapshotText, stateFiles, type StateFiles } from './state-files.js';
import { scopeId, type StateModel } from './state-model.js';
import type { Mark, MarkInfo, ScopeKey, StateStore } from './types.js';

export { StateStoreError } from './errors.js';

/** The journal is folded into a new snapshot once it is larger than this and than twice the snapshot. */
const COMPACT_MIN_BYTES = 512 * 1024;
const MAX_LOOKBACK_DAYS = 3650;

export interface StateStoreOptions {
  /** days before a scope's newest day whose membership stays exact; default: the stored value, else 1 */
  lookbackDays?: number;
  /** fsync the journal after every mark (default true); off only for tests and throw-away data */
  fsync?: boolean;
  /** clock (default: the system clock); days later than tomorrow never move a scope's window */
  now?: () => Date;
  /** smallest journal size that triggers a snapshot (default 512 KiB); tests lower it to snapshot often */
  compactMinBytes?: number;
}

/** Counters of an open store, for metrics. */
export interface StateStoreStats {
  scopes: number;
  /** key hashes held in memory */
  entries: number;
  snapshotBytes: number;
  journalBytes: number;
  compactions: number;
  /** last failed compaction (the journal keeps every mark; retried later) */
  compactionError?: string;
}

/** A StateStore with the extras only the file implementation has. */
export interface FileStateStore extends StateStore {
  /** key hashes held in memory (all scopes) */
  entries(): number;
  stats(): StateStoreStats;
  /** folds the journal into a new snapshot now */
  compact(): void;
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // some platforms cannot fsync a directory; the rename is still atomic
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes all of `text` (a regular file may take fewer bytes per call); returns the byte count. */
function writeAll(fd: number, text: string): number {
  const buf = Buffer.from(text);
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
  return buf.length;
}

class JournaledStateStore implements FileStateStore {
  readonly #dir: string;
  readonly #files: StateFiles;
  readonly #fsync: boolean;
  readonly #model: StateModel;
  readonly #salt: Uint8Array;
  readonly #saltHex: string;
  readonly #lock: string;
  #journalFd: number;
  #journalBytes: number;
  #snapshotBytes: number;
  /** scope id → its number in the current journal */
  #refs = new Map<string, number>();
  readonly #compactMin: number;
  #compactAt: number;
  #compactions = 0;
  #compactionError: string | undefined;
  /** set when a write could not be undone: the journal may end in a partial line, so no more marks */
  #broken: Error | undefined;
  #closed = false;

  constructor(dir: string, opts: StateStoreOptions) {
    if (opts.lookbackDays !== undefined && (!Number.isInteger(opts.lookbackDays) || opts.lookbackDays < 0 || opts.lookbackDays > MAX_LOOKBACK_DAYS)) {
      throw new StateStoreError('TLD_ERR_STATE_INPUT', `lookbackDays must be a whole number of days from 0 to ${MAX_LOOKBACK_DAYS}, got ${String(opts.lookbackDays)}`);
    }
    this.#dir = dir;
    this.#files = stateFiles(dir);
    this.#fsync = opts.fsync ?? true;
    mkdirSync(dir, { recursive: true });
    this.#lock = acquireLock(dir);
    let journalFd: number | undefined;
    try {
      this.#journalFd = journalFd = openSync(this.#files.journal, 'a');
      const loaded = loadState(dir, { ...(opts.lookbackDays !== undefined ? { lookbackDays: opts.lookbackDays } : {}), now: opts.now ?? (() => new Date()) });
      this.#model = loaded.model;
      this.#salt = loaded.salt ?? randomBytes(16);
      this.#saltHex = Buffer.from(this.#salt).toString('hex');
      this.#journalBytes = loaded.journalBytes;
      this.#snapshotBytes = loaded.snapshotBytes;
      this.#compactMin = opts.compactMinBytes ?? COMPACT_MIN_BYTES;
      this.#compactAt = this.#compactMin;
      const changed = loaded.salt === undefined || loaded.journalBytes > 0 || loaded.storedLookbackDays !== this.#model.lookbackDays;
      if (changed) this.#writeSnapshot();
    } catch (e) {
      if (journalFd !== undefined) closeSync(journalFd);
      releaseLock(dir, this.#lock);
      throw e;
    }
  }

  isProcessed(scope: ScopeKey, day: string, key: string, opts: { exact?: boolean } = {}): boolean {
    this.#usable();
    this.#checkInput(scope, day, key);
    const s = this.#model.find(scope);
    if (!s) return false;
    const [hi, lo] = hashKey(this.#saltHex, key);
    return this.#model.isProcessed(s, day, hi, lo, opts.exact === true);
  }

  markProcessed(scope: ScopeKey, day: string, key: string, info: MarkInfo): void {
    this.markProcessedAll([{ scope, day, key, info }]);
  }

  markProcessedAll(marks: Mark[]): void {
    this.#usable();
    this.#writable();
    for (const { scope, day, key, info } of marks) {
      this.#checkInput(scope, day, key);
      if (info.status !== 'ok' && info.status !== 'error') throw new StateStoreError('TLD_ERR_STATE_INPUT', `status must be 'ok' or 'error', got ${JSON.stringify(info.status)}`);
      if (info.checkpoint !== undefined && !isCheckpoint(info.checkpoint)) throw new StateStoreError('TLD_ERR_STATE_INPUT', 'a checkpoint maps output names to byte sizes (whole numbers ≥ 0)');
    }
    // every line first, one append (one sync); the model changes only once they are durable
    const added = new Map<string, number>();
    const lines: string[] = [];
    const applied: { id: string; scope: ScopeKey; day: string; hi: number; lo: number; info: MarkInfo }[] = [];
    for (const { scope, day, key, info } of marks) {
      const id = scopeId(scope);
      let ref = this.#refs.get(id) ?? added.get(id);
      if (ref === undefined) {
        ref = this.#refs.size + added.size;
        added.set(id, ref);
        lines.push(scopeLine(ref, scope));
      }
      const [hi, lo] = hashKey(this.#saltHex, key);
      lines.push(markLine(ref, day, hi, lo, info.status, info.checkpoint));
      applied.push({ id, scope, day, hi, lo, info });
    }
    if (lines.length === 0) return;
    this.#append(lines.join(''));
    for (const [id, ref] of added) this.#refs.set(id, ref);
    for (const m of applied) {
      this.#model.apply(this.#model.obtain(m.scope, m.id), m.day, m.hi, m.lo, m.info.status);
      if (m.info.checkpoint) this.#model.checkpoint = { ...m.info.checkpoint };
    }
    if (this.#journalBytes >= Math.max(this.#compactAt, 2 * this.#snapshotBytes)) this.#compactQuietly();
  }

  recordCheckpoint(checkpoint: OutputCheckpoint): void {
    this.#usable();
    this.#writable();
    if (!isCheckpoint(checkpoint)) throw new StateStoreError('TLD_ERR_STATE_INPUT', 'a checkpoint maps output names to byte sizes (whole numbers ≥ 0)');
    this.#append(checkpointLine(checkpoint));
    this.#model.checkpoint = { ...checkpoint };
  }

  newestDay(scope: ScopeKey): string | undefined {
    this.#usable();
    return this.#model.find(scope)?.newestDay;
  }

  lastCheckpoint(): OutputCheckpoint | undefined {
    this.#usable();
    return this.#model.checkpoint ? { ...this.#model.checkpoint } : undefined;
  }

  scopes(): ScopeKey[] {
    this.#usable();
    return [...this.#model.scopes.values()].map((s) => ({ ...s.scope }));
  }

  entries(): number {
    return this.#model.entries();
  }

  stats(): StateStoreStats {
    return {
      scopes: this.#model.scopes.size,
      entries: this.#model.entries(),
      snapshotBytes: this.#snapshotBytes,
      journalBytes: this.#journalBytes,
      compactions: this.#compactions,
      ...(this.#compactionError ? { compactionError: this.#compactionError } : {}),
    };
  }

  compact(): void {
    this.#usable();
    this.#writeSnapshot();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    let failure: unknown;
    try {
      if (this.#journalBytes > 0 && !this.#broken) this.#writeSnapshot();
    } catch (e) {
      failure = e; // the journal still holds every mark; the next open replays it
    }
    closeSync(this.#journalFd);
    releaseLock(this.#dir, this.#lock);
    if (failure) throw failure;
  }

  #usable(): void {
    if (this.#closed) throw new StateStoreError('TLD_ERR_STATE_CLOSED', `the state store of ${this.#dir} is closed`);
  }

  #writable(): void {
    if (this.#broken) throw new StateStoreError('TLD_ERR_STATE_IO', `the state in ${this.#dir} refuses new marks after a failed write (${this.#broken.message}); restart the collector`, { cause: this.#broken });
  }

  #checkInput(scope: ScopeKey, day: string, key: string): void {
    if (!isScopeKey(scope)) throw new StateStoreError('TLD_ERR_STATE_INPUT', 'a scope needs string bucket, path, type, account, region and flowLogId');
    if (!isDayShape(day)) throw new StateStoreError('TLD_ERR_STATE_INPUT', `a day must be written YYYY-MM-DD, got ${JSON.stringify(day)}`);
    if (typeof key !== 'string' || key === '') throw new StateStoreError('TLD_ERR_STATE_INPUT', 'an object key must be a non-empty string');
  }

  /** Appends to the journal and syncs; on failure cuts the journal back so no partial line is left behind. */
  #append(text: string): void {
    const before = this.#journalBytes;
    let written: number;
    try {
      written = writeAll(this.#journalFd, text);
      if (this.#fsync) fsyncSync(this.#journalFd);
    } catch (e) {
      try {
        ftruncateSync(this.#journalFd, before);
      } catch (undo) {
        this.#broken = undo as Error;
      }
      // after a failed fsync the kernel may have dropped the pages: do not trust later writes either
      if (this.#fsync) this.#broken ??= e as Error;
      throw new StateStoreError('TLD_ERR_STATE_IO', `could not record a processed object in ${this.#files.journal}: ${(e as Error).message}`, { cause: e });
    }
    this.#journalBytes += written;
  }

  #compactQuietly(): void {
    try {
      this.#writeSnapshot();
      this.#compactionError = undefined;
      this.#compactAt = this.#compactMin;
    } catch (e) {
      // every mark is still in the journal: keep going, try again after as much journal again
      this.#compactionError = `${(e as Error).message}`;
      this.#compactAt = this.#journalBytes + this.#compactMin;
    }
  }

  /** Snapshot of everything in memory (temp file, fsync, rename, fsync dir), then empties the journal. */
  #writeSnapshot(): void {
    const text = snapshotText(this.#model, this.#salt);
    const tmp = `${this.#files.snapshot}.tmp`;
    try {
      const fd = openSync(tmp, 'w');
      try {
        writeAll(fd, text);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.#files.snapshot);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw new StateStoreError('TLD_ERR_STATE_IO', `could not write ${this.#files.snapshot}: ${(e as Error).message}`, { cause: e });
    }
    fsyncDir(this.#dir);
    this.#snapshotBytes = Buffer.byteLength(text);
    this.#compactions++;
    // the snapshot holds everything the journal says (replaying it again would change nothing): empty it
    ftruncateSync(this.#journalFd, 0);
    fsyncSync(this.#journalFd);
    this.#journalBytes = 0;
    this.#refs.clear();
  }
}

/**
 * Opens (creating if needed) the state store in `dir`, taking its lock.
 * Throws StateStoreError: TLD_ERR_STATE_LOCKED (names the dir and the holder's pid), TLD_ERR_STATE_CORRUPT
 * (names the file and line), TLD_ERR_STATE_IO.
 * @example
 * const state = openStateStore(join(dataDir, 'state'), { lookbackDays: 1 });
 * if (!state.isProcessed(scope, '2025-01-02', key)) { …deliver…; state.markProcessed(scope, '2025-01-02', key, { status: 'ok', checkpoint }); }
 * state.close();
 */
export function openStateStore(dir: string, opts: StateStoreOptions = {}): FileStateStore {
  return new JournaledStateStore(dir, opts);
}

/** One scope as `describeState` reports it. */
export interface ScopeDescription {
  scope: ScopeKey;
  newestDay?: string;
  /** first day whose membership is exact; older days count as processed */
  windowStart?: string;
  /** the days held, oldest first */
  days: { day: string; objects: number; errors: number }[];
  objects: number;
  errors: number;
}

export interface StateDescription {
  dir: string;
  lookbackDays: number;
  scopes: ScopeDescription[];
  /** key hashes held (all scopes) */
  entries: number;
  snapshotBytes: number;
  journalBytes: number;
  lastCheckpoint?: OutputCheckpoint;
  /** the process holding the lock, if any, and whether it is alive */
  lockedBy?: LockHolder & { live: boolean };
}

/**
 * Reads a state directory without locking or changing it (safe while a collector runs), for `tld doctor` and
 * metrics. Throws TLD_ERR_STATE_CORRUPT like `openStateStore`.
 * @example describeState(join(dataDir, 'state')).scopes.map((s) => `${s.scope.region}: up to ${s.newestDay}`)
 */
export function describeState(dir: string, opts: { now?: () => Date } = {}): StateDescription {
  const loaded = loadState(dir, { now: opts.now ?? (() => new Date()) });
  const { model } = loaded;
  const scopes: ScopeDescription[] = [];
  for (const s of model.scopes.values()) {
    const days = [...s.days].map(([day, d]) => ({ day, objects: d.hashes.size, errors: d.errors })).sort((a, b) => (a.day < b.day ? -1 : 1));
    const windowStart = model.exactFrom(s);
    scopes.push({
      scope: { ...s.scope },
      ...(s.newestDay ? { newestDay: s.newestDay } : {}),
      ...(windowStart ? { windowStart } : {}),
      days,
      objects: days.reduce((n, d) => n + d.objects, 0),
      errors: days.reduce((n, d) => n + d.errors, 0),
    });
  }
  const holder = readLockHolder(dir);
  return {
    dir,
    lookbackDays: model.lookbackDays,
    scopes,
    entries: model.entries(),
    snapshotBytes: loaded.snapshotBytes,
    journalBytes: loaded.journalBytes,
    ...(model.checkpoint ? { lastCheckpoint: model.checkpoint } : {}),
    ...(holder ? { lockedBy: { ...holder, live: lockState(holder) !== 'stale' } } : {}),
  };
}

/** The window of a scope whose newest day is `newestDay`: [newestDay − lookbackDays, newestDay]. */
export function windowOf(newestDay: string, lookbackDays: number): { from: string; to: string } {
  return { from: shiftDay(newestDay, -lookbackDays), to: newestDay };
}
