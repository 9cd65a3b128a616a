/**
 * VPC Flow Log fields (v2–v8). Columns come from each file's header; names become Wazuh-style keys
 * (hyphens → underscores, e.g. `account-id` → `account_id`). Numbers are typed, start/end become ISO time.
 */

export type FieldKind = 'int' | 'time' | 'str';

const INT_FIELDS = new Set([
  'version', 'srcport', 'dstport', 'protocol', 'packets', 'bytes', 'tcp-flags', 'traffic-path',
  'packets-lost-no-route', 'packets-lost-blackhole', 'packets-lost-mtu-exceeded', 'packets-lost-ttl-expired',
]);

/**
 * Every field in AWS's canonical order (v2 → v8). A header-less file is read with the first N of them when N
 * is the size of a whole version's set (14 = the default format; 21, 25, 29, 39, 40 = all fields up to v3, v4,
 * v5, v7, v8), as AWS writes "all fields" formats.
 */
export const CANONICAL_FIELDS = [
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status',
  'vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr',
  'region az-id sublocation-type sublocation-id',
  'pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path',
  'ecs-cluster-arn ecs-cluster-name ecs-container-instance-arn ecs-container-instance-id ecs-container-id ecs-second-container-id ecs-service-name ecs-task-definition-arn ecs-task-arn ecs-task-id',
  'reject-reason',
].join(' ').split(' ');

export const HEADERLESS_FIELD_COUNTS = [14, 21, 25, 29, 39, 40];

export interface Column {
  key: string;
  kind: FieldKind;
}

export function columnFor(name: string): Column {
  const kind: FieldKind = name === 'start' || name === 'end' ? 'time' : INT_FIELDS.has(name) ? 'int' : 'str';
  return { key: name.replace(/-/g, '_'), kind };
}

const HEADER_TOKEN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/** A header line: every token is a field name (letters, digits, hyphens; not a number) and `version` or ≥ 3 tokens. */
export function isHeaderLine(tokens: string[]): boolean {
  return tokens.length >= 3 && tokens.every((t) => HEADER_TOKEN.test(t)) && tokens.some((t) => t === 'srcaddr' || t === 'version' || t === 'interface-id' || t === 'log-status' || t === 'action');
}

/** Unix seconds → `YYYY-MM-DDTHH:MM:SSZ` (Wazuh's format, no milliseconds). */
export function isoSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 19) + 'Z';
}
