/**
 * Owns the `alerts` and `findings` tables. Alerts are keyed by id: a re-read writes the same alert once (earlier
 * rows with its id are deleted first). A GuardDuty finding is one row per finding id: first seen kept, the newest
 * state wins, each severity/count change is appended to its history. Both wait for the next flush.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import type { AlertRow, FindingRow } from './extract.js';
import { put, ts } from './sql.js';

type Json = Record<string, unknown>;

export class AlertRows {
  #pending: AlertRow[] = [];

  add(rows: AlertRow[]): void {
    for (const r of rows) this.#pending.push(r);
  }

  async write(conn: DuckDBConnection): Promise<void> {
    if (this.#pending.length === 0) return;
    const ids = [...new Set(this.#pending.map((r) => r.id))];
    for (let i = 0; i < ids.length; i += 500) {
      const part = ids.slice(i, i + 500);
      await conn.run(`DELETE FROM alerts WHERE id IN (${part.map((_, j) => `$${j + 1}`).join(',')})`, part);
    }
    const a = await conn.createAppender('alerts');
    const seen = new Set<string>();
    for (const r of this.#pending) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      put(a, r.id, 'v');
      put(a, ts(r.ts), 't');
      put(a, ts(r.eventTs), 't');
      put(a, r.level, 'i');
      put(a, r.ruleId, 'v');
      put(a, r.description, 'v');
      put(a, r.groups, 'v');
      put(a, r.source, 'v');
      put(a, r.account, 'v');
      put(a, r.region, 'v');
      put(a, r.src, 'v');
      put(a, r.dst, 'v');
      put(a, r.bucket, 'v');
      put(a, r.json, 'v');
      a.endRow();
    }
    a.flushSync();
    a.closeSync();
    this.#pending = [];
  }
}

export class FindingRows {
  #pending: FindingRow[] = [];

  add(rows: FindingRow[]): void {
    for (const f of rows) this.#pending.push(f);
  }

  async write(conn: DuckDBConnection): Promise<void> {
    // every emission in order, so the severity/count history sees each step; the newest state wins
    const findings = this.#pending.sort((x, y) => (x.lastSeen ?? 0) - (y.lastSeen ?? 0));
    this.#pending = [];
    for (const f of findings) await upsert(conn, f);
  }
}

/** A finding seen again keeps its first-seen time, takes the newest state, and records each severity/count change. */
async function upsert(conn: DuckDBConnection, f: FindingRow): Promise<void> {
  const prev = (await conn.runAndReadAll('SELECT first_seen, last_seen, history, count, severity FROM findings WHERE id = $1', [f.id])).getRowObjectsJson()[0] as Json | undefined;
  const history = prev ? (JSON.parse(String(prev.history)) as Json[]) : [];
  if (!prev || Number(prev.count) !== f.count || Number(prev.severity) !== f.severity) history.push({ at: f.lastSeen === null ? null : new Date(f.lastSeen).toISOString(), severity: f.severity, count: f.count });
  if (prev && prev.last_seen && Date.parse(String(prev.last_seen) + 'Z') > (f.lastSeen ?? 0)) return; // an older emission arriving late
  const first = prev?.first_seen ? Math.min(Date.parse(String(prev.first_seen) + 'Z'), f.firstSeen ?? Infinity) : f.firstSeen;
  await conn.run('DELETE FROM findings WHERE id = $1', [f.id]);
  await conn.run(
    `INSERT INTO findings VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,to_timestamp($18/1000.0)::TIMESTAMP,to_timestamp($19/1000.0)::TIMESTAMP,$20,$21,$22)`,
    [f.id, f.type, f.severity, f.title, f.account, f.region, f.instanceId, f.userName, f.api, f.actionType, f.remoteIp, f.country, f.city, f.lat, f.lon, f.port, f.role, first ?? 0, f.lastSeen ?? 0, BigInt(Math.round(f.count)), JSON.stringify(history), f.json] as DuckDBValue[],
  );
}
