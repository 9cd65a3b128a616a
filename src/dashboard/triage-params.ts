/**
 * Input of the triage and entity APIs, checked before anything is written or queried (the style of params.ts: a
 * bad value is a 400 naming the field and saying what it takes). Notes and names are kept as the analyst typed
 * them; they are only ever shown as text.
 */
import { BadParameter, single, type Query } from './params.js';
import { TRIAGE_KINDS, TRIAGE_STATUSES, type TriageKind, type TriageStatus } from './triage-log.js';

export const MAX_NOTE = 4000;
export const MAX_NAME = 100;
const MAX_ID = 200;

export interface TriageUpdate {
  status?: TriageStatus;
  assignee?: string;
  note?: string;
  /** who is acting, only taken when the dashboard has no sign-in (then it is what the analyst calls themself) */
  actor?: string;
}

const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function text(body: Record<string, unknown>, name: string, max: number, multiline = false): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new BadParameter(name, 'a string');
  if (v.length > max) throw new BadParameter(name, `at most ${max} characters (got ${v.length})`);
  if (multiline ? CONTROL.test(v) : /[\u0000-\u001f\u007f]/.test(v)) throw new BadParameter(name, multiline ? 'text without control characters (tabs and new lines are fine)' : 'one line of text without control characters');
  return v;
}

/** The body of POST /api/triage/:kind/:id: at least one of status, assignee, note. */
export function readTriageUpdate(raw: unknown): TriageUpdate {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new BadParameter('body', 'a JSON object with status, assignee and/or note');
  const body = raw as Record<string, unknown>;
  for (const k of Object.keys(body)) if (!['status', 'assignee', 'note', 'actor'].includes(k)) throw new BadParameter(k, 'not a triage field (status, assignee, note)');
  const u: TriageUpdate = {};
  if (body.status !== undefined) {
    if (!(TRIAGE_STATUSES as readonly unknown[]).includes(body.status)) throw new BadParameter('status', `one of ${TRIAGE_STATUSES.join(', ')}`);
    u.status = body.status as TriageStatus;
  }
  const assignee = text(body, 'assignee', MAX_NAME);
  if (assignee !== undefined) u.assignee = assignee.trim();
  const note = text(body, 'note', MAX_NOTE, true);
  if (note !== undefined && note.trim() !== '') u.note = note;
  const actor = text(body, 'actor', MAX_NAME);
  if (actor !== undefined && actor.trim() !== '') u.actor = actor.trim();
  if (u.status === undefined && u.assignee === undefined && u.note === undefined) throw new BadParameter('body', 'nothing to change: give status, assignee or note');
  return u;
}

export function readKind(v: string | undefined): TriageKind {
  if (!(TRIAGE_KINDS as readonly (string | undefined)[]).includes(v)) throw new BadParameter('kind', `alert or finding, not '${String(v).slice(0, 40)}'`);
  return v as TriageKind;
}

/** An alert id or finding id from the path: printable, bounded. */
export function readId(v: string | undefined, name = 'id'): string {
  if (!v || v.length > MAX_ID || /[\u0000-\u001f\u007f]/.test(v)) throw new BadParameter(name, `an identifier of 1 to ${MAX_ID} printable characters`);
  return v;
}

export const BANDS = ['low', 'medium', 'high', 'critical'] as const;
export type Band = (typeof BANDS)[number];

export interface QueueFilter {
  status?: TriageStatus;
  band?: Band;
  kind?: TriageKind;
  assignee?: string;
  limit: number;
  offset: number;
}

/** Filters of GET /api/triage (the range is read by params.ts `readRange`). */
export function readQueueFilter(query: Query): QueueFilter {
  const f: QueueFilter = { limit: 200, offset: 0 };
  const status = single(query, 'status');
  if (status !== undefined) {
    if (!(TRIAGE_STATUSES as readonly string[]).includes(status)) throw new BadParameter('status', `one of ${TRIAGE_STATUSES.join(', ')}`);
    f.status = status as TriageStatus;
  }
  const band = single(query, 'band');
  if (band !== undefined) {
    if (!(BANDS as readonly string[]).includes(band)) throw new BadParameter('band', `one of ${BANDS.join(', ')}`);
    f.band = band as Band;
  }
  const kind = single(query, 'kind');
  if (kind !== undefined) f.kind = readKind(kind);
  const assignee = single(query, 'assignee');
  if (assignee !== undefined) {
    if (assignee.length > MAX_NAME) throw new BadParameter('assignee', `at most ${MAX_NAME} characters`);
    f.assignee = assignee;
  }
  for (const [name, max] of [['limit', 1000], ['offset', 1_000_000]] as const) {
    const v = single(query, name);
    if (v === undefined) continue;
    const n = /^\d{1,7}$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n > max || (name === 'limit' && n < 1)) throw new BadParameter(name, `a whole number from ${name === 'limit' ? 1 : 0} to ${max}, not '${v.slice(0, 40)}'`);
    f[name] = n;
  }
  return f;
}
