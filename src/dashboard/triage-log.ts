/**
 * The analysts' triage of alerts and GuardDuty findings: status, assignee, notes, and who changed what when.
 *
 * One owner, one file: `<data dir>/dashboard/triage.jsonl`, an append-only audit log (one change per line),
 * replayed at start. It is not in the DuckDB store because `tld dashboard` opens the store read-only (and
 * `tld start` may hold its write lock), while triage must be writable in both modes. Every append is one
 * `write` on an O_APPEND descriptor followed by fsync, so two processes appending never interleave a line and
 * a change survives a crash once its POST answered. Before each read the file's new bytes are taken in, so a
 * change written by another process shows up too.
 *
 * The log is the audit trail: a line is never rewritten. A torn last line (a crash mid-write) is left out and
 * the next append starts on a new line; any other unreadable line is skipped with a warning naming the line.
 */
import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export const TRIAGE_STATUSES = ['new', 'acknowledged', 'closed_true_positive', 'closed_false_positive'] as const;
export type TriageStatus = (typeof TRIAGE_STATUSES)[number];
export const TRIAGE_KINDS = ['alert', 'finding'] as const;
export type TriageKind = (typeof TRIAGE_KINDS)[number];

/** One line of the log: what one person changed on one alert or finding. */
export interface TriageChange {
  at: string;
  actor: string;
  kind: TriageKind;
  id: string;
  status?: TriageStatus;
  /** '' clears the assignee */
  assignee?: string;
  note?: string;
}

export interface TriageState {
  kind: TriageKind;
  id: string;
  status: TriageStatus;
  assignee: string | null;
  notes: { at: string; actor: string; text: string }[];
  updatedAt: string | null;
  updatedBy: string | null;
  /** every change, oldest first (the audit trail) */
  history: TriageChange[];
}

/** The triage log cannot be read or written (permissions, disk): the message names the file and what to check. */
export class TriageWriteError extends Error {
  readonly statusCode = 503;
}

const key = (kind: TriageKind, id: string) => `${kind}\u0000${id}`;

export class TriageLog {
  readonly path: string;
  readonly #warn: (message: string) => void;
  readonly #items = new Map<string, TriageState>();
  /** bytes of the file taken in (always just after a newline) */
  #offset = 0;
  #lines = 0;
  #endsWithNewline = true;

  constructor(path: string, warn: (message: string) => void = () => {}) {
    this.path = path;
    this.#warn = warn;
    try {
      this.#catchUp();
    } catch (e) {
      // the dashboard still starts: its pages work, and triage says what is wrong with the file when used
      warn(`${(e as Error).message}.`);
    }
  }

  /** The triage of one alert or finding (status `new` and no history when nobody touched it). */
  get(kind: TriageKind, id: string): TriageState {
    this.#catchUp();
    return this.#items.get(key(kind, id)) ?? { kind, id, status: 'new', assignee: null, notes: [], updatedAt: null, updatedBy: null, history: [] };
  }

  /** Every alert and finding someone triaged, current state only (for the SQL joins: see triage.ts). */
  touched(): { kind: TriageKind; id: string; status: TriageStatus; assignee: string | null }[] {
    this.#catchUp();
    return [...this.#items.values()].map(({ kind, id, status, assignee }) => ({ kind, id, status, assignee }));
  }

  /** Appends a change (durable when this returns) and gives back the new state. */
  append(change: TriageChange): TriageState {
    const line = `${this.#endsWithNewline ? '' : '\n'}${JSON.stringify(change)}\n`;
    let fd: number | undefined;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      fd = openSync(this.path, 'a', 0o600);
      writeSync(fd, line);
      fsyncSync(fd);
    } catch (e) {
      throw new TriageWriteError(`cannot record the triage change in ${this.path}: ${(e as Error).message}. Check that the dashboard may write to that folder (it holds the triage audit log).`);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    this.#catchUp();
    return this.get(change.kind, change.id);
  }

  /** Takes in what was appended since the last look (by this process or another one). */
  #catchUp(): void {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new TriageWriteError(`cannot read the triage log ${this.path}: ${(e as Error).message}. Check that the dashboard may read and write that file`);
    }
    try {
      const size = fstatSync(fd).size;
      if (size < this.#offset) {
        // replaced by a shorter file (restored from a backup): read it again from the start
        this.#items.clear();
        this.#offset = 0;
        this.#lines = 0;
      }
      if (size === this.#offset) return;
      const buf = Buffer.alloc(size - this.#offset);
      let got = 0;
      while (got < buf.length) {
        const n = readSync(fd, buf, got, buf.length - got, this.#offset + got);
        if (n === 0) break;
        got += n;
      }
      const end = buf.lastIndexOf(10, got - 1);
      this.#endsWithNewline = got === 0 || buf[got - 1] === 10;
      if (end < 0) return; // only a torn line so far
      for (const text of buf.subarray(0, end).toString('utf8').split('\n')) {
        this.#lines++;
        if (text.trim() === '') continue;
        const change = parseChange(text);
        if (change) this.#apply(change);
        else this.#warn(`Skipped unreadable line ${this.#lines} of the triage log ${this.path}.`);
      }
      this.#offset += end + 1;
    } finally {
      closeSync(fd);
    }
  }

  #apply(c: TriageChange): void {
    const k = key(c.kind, c.id);
    let s = this.#items.get(k);
    if (!s) {
      s = { kind: c.kind, id: c.id, status: 'new', assignee: null, notes: [], updatedAt: null, updatedBy: null, history: [] };
      this.#items.set(k, s);
    }
    if (c.status !== undefined) s.status = c.status;
    if (c.assignee !== undefined) s.assignee = c.assignee === '' ? null : c.assignee;
    if (c.note !== undefined) s.notes.push({ at: c.at, actor: c.actor, text: c.note });
    s.updatedAt = c.at;
    s.updatedBy = c.actor;
    s.history.push(c);
  }
}

const isStatus = (v: unknown): v is TriageStatus => (TRIAGE_STATUSES as readonly unknown[]).includes(v);
const isKind = (v: unknown): v is TriageKind => (TRIAGE_KINDS as readonly unknown[]).includes(v);

function parseChange(text: string): TriageChange | undefined {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || typeof v.at !== 'string' || typeof v.actor !== 'string' || !isKind(v.kind) || typeof v.id !== 'string') return undefined;
  const c: TriageChange = { at: v.at, actor: v.actor, kind: v.kind, id: v.id };
  if (v.status !== undefined) {
    if (!isStatus(v.status)) return undefined;
    c.status = v.status;
  }
  if (typeof v.assignee === 'string') c.assignee = v.assignee;
  if (typeof v.note === 'string') c.note = v.note;
  return c;
}
