/**
 * Tables of the embedded store (DuckDB, columnar: flows compress well and aggregate fast), store format 2.
 *
 * Flows hold no per-row strings in the common case: what DuckDB spends its time on when ingesting is
 * compressing high-cardinality strings (addresses), and per-row string columns cost even when constant
 * (measured, docs/architecture.md "The embedded store"). So:
 * - `object_id` is the 16 hex digits of ObjectRef.objectId as a UBIGINT (see object-key.ts);
 * - `src4`/`dst4` hold IPv4 addresses as UINTEGER (a.b.c.d → a·2²⁴ + b·2¹⁶ + c·2⁸ + d), `src_text`/`dst_text`
 *   only an address that is not plain IPv4 text (IPv6, or anything else a custom format put there: kept, never
 *   dropped). A CIDR becomes a range compare: 10.0.0.0/16 is `src4 BETWEEN ipv4('10.0.0.0') AND ipv4('10.0.255.255')`;
 * - `iface` numbers the (ENI, account, region) of the row in `flow_interfaces` (an ENI belongs to one account
 *   and region; the dictionary is small and read back into memory on open, see interface-dictionary.ts);
 * - `action` and `log_status` are ENUMs (other values are NULL; the event stays whole in archives/alerts).
 * The bucket and key of a flow's object are in `objects` (`object_id`). `flows_v` shows flows as text.
 */

/** The format this code writes; `store_meta` records the format of a database. */
export const STORE_FORMAT = 2;

export const FLOW_ACTIONS = ['ACCEPT', 'REJECT'] as const;
export const FLOW_LOG_STATUSES = ['OK', 'NODATA', 'SKIPDATA'] as const;

const enumList = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

/** The flows table of format 2 (`name` lets the migration build it beside the old one). */
export const flowsTable = (name: string) => `CREATE TABLE IF NOT EXISTS ${name} (
     object_id UBIGINT, idx INTEGER, ts TIMESTAMP, end_ts TIMESTAMP, iface UINTEGER,
     src4 UINTEGER, dst4 UINTEGER, src_text VARCHAR, dst_text VARCHAR,
     sport INTEGER, dport INTEGER, proto SMALLINT, packets BIGINT, bytes BIGINT,
     action flow_action, log_status flow_log_status)`;

/** Types and tables that do not depend on the flows layout (both formats have them, or they are new). */
export const BASE_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS store_meta (key VARCHAR, value VARCHAR)`,
  `CREATE TYPE IF NOT EXISTS flow_action AS ENUM (${enumList(FLOW_ACTIONS)})`,
  `CREATE TYPE IF NOT EXISTS flow_log_status AS ENUM (${enumList(FLOW_LOG_STATUSES)})`,
  `CREATE TABLE IF NOT EXISTS flow_interfaces (iface UINTEGER, eni VARCHAR, account VARCHAR, region VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS alerts (
     id VARCHAR, ts TIMESTAMP, event_ts TIMESTAMP, level INTEGER, rule_id VARCHAR, description VARCHAR, groups VARCHAR,
     source VARCHAR, account VARCHAR, region VARCHAR, src_ip VARCHAR, dst_ip VARCHAR, bucket VARCHAR, json VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS findings (
     id VARCHAR PRIMARY KEY, type VARCHAR, severity DOUBLE, title VARCHAR, account VARCHAR, region VARCHAR,
     instance_id VARCHAR, user_name VARCHAR, api VARCHAR, action_type VARCHAR, remote_ip VARCHAR, country VARCHAR,
     city VARCHAR, lat DOUBLE, lon DOUBLE, port INTEGER, resource_role VARCHAR, first_seen TIMESTAMP, last_seen TIMESTAMP,
     count BIGINT, history VARCHAR, json VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS objects (
     bucket VARCHAR, key VARCHAR, type VARCHAR, status VARCHAR, error VARCHAR, records BIGINT, bytes BIGINT,
     last_modified TIMESTAMP, processed_at TIMESTAMP, flow_rows BIGINT, first_ts TIMESTAMP, last_ts TIMESTAMP, object_id UBIGINT)`,
  // stores made before these columns: the same columns, at the end, in the same order
  `ALTER TABLE objects ADD COLUMN IF NOT EXISTS flow_rows BIGINT`,
  `ALTER TABLE objects ADD COLUMN IF NOT EXISTS first_ts TIMESTAMP`,
  `ALTER TABLE objects ADD COLUMN IF NOT EXISTS last_ts TIMESTAMP`,
  `ALTER TABLE objects ADD COLUMN IF NOT EXISTS object_id UBIGINT`,
  // asked for every object read (was it committed before?): an index keeps that a lookup, not a scan of every
  // object ever read (13 ms per object at a million rows, 57 ms at five million)
  `CREATE INDEX IF NOT EXISTS objects_key ON objects (key)`,
];

/** Format 2's flow tables (a new store; after the migration of a format 1 store). */
export const FLOW_SCHEMA = [
  flowsTable('flows'),
  // objects whose first flow rows were committed while they were still being read (a group commit during a
  // long object): if the process dies before the object's own commit, its rows are removed on the next open
  `CREATE TABLE IF NOT EXISTS open_objects (object_id UBIGINT)`,
];

/**
 * Macros, (re)created on every writable open so a newer version can change them. `ipv4(text)`: the number of
 * plain dotted-quad IPv4 text (NULL otherwise; the same rule as src/shared/ipv4.ts `ipv4Number`), for filters and CIDR
 * ranges; `ip_text(n, t)`: an address column pair back as text.
 */
export const MACROS = [
  `CREATE OR REPLACE MACRO ipv4(t) AS CASE WHEN regexp_full_match(t, '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}')
     THEN (split_part(t, '.', 1)::UINTEGER * 16777216 + split_part(t, '.', 2)::UINTEGER * 65536 + split_part(t, '.', 3)::UINTEGER * 256 + split_part(t, '.', 4)::UINTEGER)::UINTEGER END`,
  `CREATE OR REPLACE MACRO ip_text(n, t) AS CASE WHEN n IS NULL THEN t ELSE concat_ws('.', n // 16777216, (n // 65536) % 256, (n // 256) % 256, n % 256) END`,
];

/** Flows as text, as format 1 held them (for reading by hand and for tests; the dashboard reads `flows`). */
export const VIEWS = [
  `CREATE OR REPLACE VIEW flows_v AS SELECT printf('%016x', f.object_id) AS object_id, f.idx, f.ts, f.end_ts, i.eni, i.account, i.region,
     ip_text(f.src4, f.src_text) AS src, ip_text(f.dst4, f.dst_text) AS dst, f.sport, f.dport, f.proto, f.packets, f.bytes,
     f.action::VARCHAR AS action, f.log_status::VARCHAR AS log_status
     FROM flows f LEFT JOIN flow_interfaces i USING (iface)`,
];

