/**
 * Owns what happens to the database file when the store opens it for writing: the tables (schema.ts), the
 * conversion of an older store format, and the clean-up after a crash (rows of objects whose read was cut off
 * after part of them was committed, listed in open_objects, are removed: those objects are read again).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { BASE_SCHEMA, FLOW_SCHEMA, MACROS, STORE_FORMAT, VIEWS, flowsTable } from './schema.js';
import { markRowsDirty, prepareRollups } from './rollups.js';

async function exists(conn: DuckDBConnection, table: string): Promise<boolean> {
  return (await conn.runAndReadAll(`SELECT 1 FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = '${table}'`)).getRows().length > 0;
}

/** The store format of an open database: 0 for an empty one, 1 for stores written before `store_meta`. */
export async function storeFormat(conn: DuckDBConnection): Promise<number> {
  if (await exists(conn, 'store_meta')) {
    const [row] = (await conn.runAndReadAll(`SELECT value FROM store_meta WHERE key = 'format'`)).getRows();
    if (row) return Number(row[0]);
  }
  return (await exists(conn, 'flows')) ? 1 : 0;
}

async function recordFormat(conn: DuckDBConnection): Promise<void> {
  await conn.run(`DELETE FROM store_meta WHERE key = 'format'`);
  await conn.run(`INSERT INTO store_meta VALUES ('format', '${STORE_FORMAT}')`);
}

/** Says what to do with a database this code cannot read or write as it is. */
export function checkFormat(format: number, path: string, readOnly: boolean): void {
  if (format > STORE_FORMAT) throw new Error(`the store ${path} was written by a newer ThreatLockDown (store format ${format}; this version reads format ${STORE_FORMAT}): upgrade tld, or move the store directory aside to start a new one`);
  if (readOnly && format > 0 && format < STORE_FORMAT) throw new Error(`the store ${path} is in an older format (${format}) that is converted when the collector opens it: run tld run-once or tld start once, then start the dashboard again`);
}

/**
 * Format 1 → 2 in one transaction: a crash or an error midway leaves the format 1 table as it was (DuckDB's
 * DDL is transactional), to be converted at the next open. Addresses become numbers where they are plain IPv4
 * text (the rest stays as text), (ENI, account, region) become interface numbers, actions and statuses ENUMs
 * (other values NULL), object ids numbers (objectKey's rule), and health rows learn their object's id.
 */
async function migrateFormat1(conn: DuckDBConnection): Promise<void> {
  const objectKey = (col: string) => `CASE WHEN regexp_full_match(${col}, '[0-9a-f]{16}') THEN ('0x' || ${col}) ELSE '0x' || left(sha1(${col}), 16) END::UBIGINT`;
  await conn.run('BEGIN TRANSACTION');
  try {
    // format 1's own crash clean-up first, while its open list still names its ids as text
    if (await exists(conn, 'open_objects')) {
      await conn.run('DELETE FROM flows WHERE object_id IN (SELECT object_id FROM open_objects)');
      await conn.run('DROP TABLE open_objects');
    }
    await conn.run(`INSERT INTO flow_interfaces SELECT (row_number() OVER (ORDER BY account, region, eni) - 1)::UINTEGER, eni, account, region
      FROM (SELECT DISTINCT eni, account, region FROM flows)`);
    await conn.run(flowsTable('flows_format2'));
    await conn.run(`INSERT INTO flows_format2 SELECT ${objectKey('f.object_id')}, f.idx, f.ts, f.end_ts, i.iface,
        ipv4(f.src), ipv4(f.dst), CASE WHEN ipv4(f.src) IS NULL THEN f.src END, CASE WHEN ipv4(f.dst) IS NULL THEN f.dst END,
        f.sport, f.dport, f.proto, f.packets, f.bytes, TRY_CAST(f.action AS flow_action), TRY_CAST(f.log_status AS flow_log_status)
      FROM flows f LEFT JOIN flow_interfaces i ON f.eni IS NOT DISTINCT FROM i.eni AND f.account IS NOT DISTINCT FROM i.account AND f.region IS NOT DISTINCT FROM i.region`);
    await conn.run('DROP TABLE flows');
    await conn.run('ALTER TABLE flows_format2 RENAME TO flows');
    // the collector's object id is the SHA-1 of bucket/key (collect-bucket.ts objectIdOf)
    await conn.run(`UPDATE objects SET object_id = ('0x' || left(sha1(bucket || '/' || key), 16))::UBIGINT WHERE object_id IS NULL`);
    await recordFormat(conn);
    await conn.run('COMMIT');
  } catch (e) {
    await conn.run('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/** Brings a database opened for writing to the current format and cleans up after a crash. */
export async function prepareDatabase(conn: DuckDBConnection, path: string): Promise<void> {
  const format = await storeFormat(conn);
  checkFormat(format, path, false);
  for (const sql of BASE_SCHEMA) await conn.run(sql);
  for (const sql of MACROS) await conn.run(sql);
  if (format === 1) {
    try {
      await migrateFormat1(conn);
    } catch (e) {
      throw new Error(`the store ${path} could not be converted from store format 1 to ${STORE_FORMAT} (nothing was changed; it is tried again at the next start): ${(e as Error).message}`, { cause: e });
    }
  }
  for (const sql of FLOW_SCHEMA) await conn.run(sql);
  for (const sql of VIEWS) await conn.run(sql);
  if (format !== STORE_FORMAT) await recordFormat(conn);
  await prepareRollups(conn);
  // rows of objects whose read was cut off by a crash after part of them was committed: they are read again
  // (their hours' rollups marked first, see rollups.ts)
  const [open] = (await conn.runAndReadAll('SELECT count(*) FROM open_objects')).getRows();
  if (Number(open?.[0] ?? 0) > 0) await markRowsDirty(conn, 'object_id IN (SELECT object_id FROM open_objects)');
  await conn.run('DELETE FROM flows WHERE object_id IN (SELECT object_id FROM open_objects)');
  await conn.run('DELETE FROM open_objects');
}
