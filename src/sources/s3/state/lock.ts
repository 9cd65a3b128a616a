/**
 * One process per state directory: a `lock` file naming the holder (pid, host, process start time).
 * The file appears atomically with its content (written to a temporary name, then hard-linked into place, which
 * fails if a lock already exists). A lock whose process is gone — or whose pid now belongs to a process started
 * later — is stale and taken over; a lock from another host is never assumed stale.
 */
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StateStoreError } from './errors.js';

export interface LockHolder {
  pid: number;
  hostname?: string;
  /** Linux: the process start time in clock ticks since boot (tells a reused pid apart) */
  startTicks?: string;
  since?: string;
}

/** The lock file of a state directory. */
export function lockFileOf(dir: string): string {
  return join(dir, 'lock');
}

/** Start time of a process (Linux `/proc/<pid>/stat` field 22), or undefined where unknown. */
function startTicksOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) is in parentheses and may contain spaces: count fields after the last ')'
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19];
  } catch {
    return undefined;
  }
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseHolder(text: string): LockHolder | undefined {
  const t = text.trim();
  if (/^\d+$/.test(t)) return { pid: Number(t) };
  try {
    const v = JSON.parse(t) as Partial<LockHolder>;
    if (typeof v.pid !== 'number' || !Number.isInteger(v.pid) || v.pid <= 0) return undefined;
    return {
      pid: v.pid,
      ...(typeof v.hostname === 'string' ? { hostname: v.hostname } : {}),
      ...(typeof v.startTicks === 'string' ? { startTicks: v.startTicks } : {}),
      ...(typeof v.since === 'string' ? { since: v.since } : {}),
    };
  } catch {
    return undefined;
  }
}

/** Who holds the lock of `dir` right now, if anyone (the process may be dead: see `isLockStale`). */
export function readLockHolder(dir: string): LockHolder | undefined {
  try {
    return parseHolder(readFileSync(lockFileOf(dir), 'utf8'));
  } catch {
    return undefined;
  }
}

/** 'held': a live process (or one we cannot check, on another host); 'stale': safe to take over; 'self': this process. */
export function lockState(holder: LockHolder): 'held' | 'stale' | 'self' {
  if (holder.hostname !== undefined && holder.hostname !== hostname()) return 'held';
  const ticks = startTicksOf(holder.pid);
  if (holder.pid === process.pid) {
    // same pid: this very process, or an earlier one that had our pid (containers restart as pid 1)
    return holder.startTicks !== undefined && holder.startTicks === ticks ? 'self' : 'stale';
  }
  if (!pidExists(holder.pid)) return 'stale';
  if (holder.startTicks !== undefined && ticks !== undefined && holder.startTicks !== ticks) return 'stale';
  return 'held';
}

function describeHolder(h: LockHolder): string {
  return `process ${h.pid}${h.hostname ? ` on ${h.hostname}` : ''}${h.since ? ` (since ${h.since})` : ''}`;
}

/**
 * Takes the lock of `dir` for this process, taking over a stale one. Returns the lock text to hand to `releaseLock`.
 * Throws TLD_ERR_STATE_LOCKED naming the directory and the holder's pid when another live process holds it.
 */
export function acquireLock(dir: string): string {
  const file = lockFileOf(dir);
  const ticks = startTicksOf(process.pid);
  const mine: LockHolder = { pid: process.pid, hostname: hostname(), ...(ticks ? { startTicks: ticks } : {}), since: new Date().toISOString() };
  const text = `${JSON.stringify(mine)}\n`;
  const tmp = join(dir, `lock.${process.pid}.tmp`);
  writeFileSync(tmp, text);
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        linkSync(tmp, file);
        return text;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      let seen: string;
      try {
        seen = readFileSync(file, 'utf8');
      } catch {
        continue; // released meanwhile
      }
      const holder = parseHolder(seen);
      const verdict = holder ? lockState(holder) : 'stale';
      if (holder && verdict === 'self') {
        throw new StateStoreError('TLD_ERR_STATE_LOCKED', `the state in ${dir} is already open in this process (pid ${holder.pid}); close it before opening it again`);
      }
      if (holder && verdict === 'held') {
        throw new StateStoreError('TLD_ERR_STATE_LOCKED', `the state in ${dir} is in use by ${describeHolder(holder)}; stop it first (one collector per data directory), or delete ${file} if that process is gone`);
      }
      // stale (or unreadable): move it aside, and make sure what we moved is what we judged
      const aside = join(dir, `lock.stale.${process.pid}`);
      try {
        renameSync(file, aside);
      } catch {
        continue;
      }
      const moved = readFileSync(aside, 'utf8');
      if (moved !== seen) {
        // someone replaced the stale lock with a live one in between: put theirs back
        try {
          linkSync(aside, file);
        } catch {
          // a third process took it meanwhile; the next round reports whoever holds it
        }
      }
      unlinkSync(aside);
    }
    throw new StateStoreError('TLD_ERR_STATE_LOCKED', `could not take the lock ${file}: it keeps changing hands; is another collector starting on ${dir}?`);
  } finally {
    unlinkSync(tmp);
  }
}

/** Releases the lock taken by `acquireLock` (only if it is still ours). */
export function releaseLock(dir: string, text: string): void {
  try {
    if (readFileSync(lockFileOf(dir), 'utf8') === text) unlinkSync(lockFileOf(dir));
  } catch {
    // already gone
  }
}
