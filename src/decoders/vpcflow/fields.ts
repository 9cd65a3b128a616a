/**
 * VPC Flow Log fields (v2–v8). Columns come from each file's header; names become Wazuh-style keys
 * (hyphens → underscores, e.g. `account-id` → `account_id`). Numbers are typed, start/end become ISO time.
 */
import type { AwsEvent, LogInfo } from '../../shared/events.js';

/** How a column's text is converted: kept as text, parsed as an integer, or Unix seconds → ISO time. */
export const FieldKind = { Text: 0, Int: 1, Time: 2 } as const;

const INT_FIELDS = new Set([
  'version', 'srcport', 'dstport', 'protocol', 'packets', 'bytes', 'tcp-flags', 'traffic-path',
  'packets-lost-no-route', 'packets-lost-blackhole', 'packets-lost-mtu-exceeded', 'packets-lost-ttl-expired',
]);

/** The default (v2) format, used for header-less files whose lines have exactly 14 fields. */
export const DEFAULT_FORMAT = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'.split(' ');

/** Every field AWS documents (v2–v8); a line whose tokens are all field names, one of them known, is a header. */
export const KNOWN_FIELDS: ReadonlySet<string> = new Set([
  ...DEFAULT_FORMAT,
  'vpc-id', 'subnet-id', 'instance-id', 'tcp-flags', 'type', 'pkt-srcaddr', 'pkt-dstaddr',
  'region', 'az-id', 'sublocation-type', 'sublocation-id',
  'pkt-src-aws-service', 'pkt-dst-aws-service', 'flow-direction', 'traffic-path',
  'resource-type', 'tgw-id', 'tgw-attachment-id', 'tgw-src-vpc-account-id', 'tgw-dst-vpc-account-id', 'tgw-src-vpc-id',
  'tgw-dst-vpc-id', 'tgw-src-subnet-id', 'tgw-dst-subnet-id', 'tgw-src-eni', 'tgw-dst-eni', 'tgw-src-az-id',
  'tgw-dst-az-id', 'tgw-pair-attachment-id', 'packets-lost-no-route', 'packets-lost-blackhole',
  'packets-lost-mtu-exceeded', 'packets-lost-ttl-expired',
  'ecs-cluster-arn', 'ecs-cluster-name', 'ecs-container-instance-arn', 'ecs-container-instance-id', 'ecs-container-id',
  'ecs-second-container-id', 'ecs-service-name', 'ecs-task-definition-arn', 'ecs-task-arn', 'ecs-task-id',
  'reject-reason',
]);

/** Keys the event sets itself; a header field of that name (none exists in AWS's catalogue) is renamed `flow_<key>`. */
const RESERVED_KEYS = new Set(['log_info', 'source', 'aws_account_id']);

/** Per-header column layout, computed once per header line and reused for every record under it. */
export interface Columns {
  /** event keys in header order (`log-status` → `log_status`) */
  keys: string[];
  /** FieldKind per column */
  kinds: Uint8Array;
  /** whether the columns came from a header line (false: header-less default format) */
  fromHeader: boolean;
}

/** Builds the layout for a header's field names. */
export function columnsFor(names: readonly string[], fromHeader: boolean): Columns {
  const kinds = new Uint8Array(names.length);
  names.forEach((name, i) => {
    kinds[i] = name === 'start' || name === 'end' ? FieldKind.Time : INT_FIELDS.has(name) ? FieldKind.Int : FieldKind.Text;
  });
  const keys = names.map((n) => {
    const key = n.replaceAll('-', '_');
    return RESERVED_KEYS.has(key) ? `flow_${key}` : key;
  });
  return { keys, kinds, fromHeader };
}

const HEADER_TOKEN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/**
 * Whether a line (already split on single spaces) is a header: every token looks like a field name and at
 * least one is a field AWS documents, so future fields are accepted next to known ones.
 */
export function isHeaderLine(tokens: readonly string[]): boolean {
  return tokens.every((t) => HEADER_TOKEN.test(t)) && tokens.some((t) => KNOWN_FIELDS.has(t));
}

/**
 * The latest Unix second a JavaScript Date can hold (8.64e15 ms): a larger start/end is no time (converting it
 * would throw), so the record is reported as unreadable like any other non-time text.
 */
export const MAX_SECONDS = 8_640_000_000_000;

/** Unix seconds (0 to MAX_SECONDS) → `YYYY-MM-DDTHH:MM:SSZ` (Wazuh's format, no milliseconds). */
export function isoSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 19) + 'Z';
}

/**
 * The object every event of one header starts as (copied per record): `log_info`, the header's keys in order
 * (undefined until set: absent `-` fields stay undefined), `source`, then `aws_account_id` when the key path
 * gave one. Built by JSON.parse, which makes a fast-mode object even with dozens of keys and treats every
 * header name as a plain key.
 */
export function eventTemplate(keys: readonly string[], logInfo: LogInfo, accountId: string | undefined): AwsEvent['aws'] {
  const names = ['log_info', ...keys, 'source', ...(accountId !== undefined ? ['aws_account_id'] : [])];
  const template = JSON.parse(`{${names.map((k) => `${JSON.stringify(k)}:null`).join(',')}}`) as Record<string, unknown>;
  for (const k of keys) template[k] = undefined;
  template.log_info = logInfo;
  template.source = 'vpc';
  if (accountId !== undefined) template.aws_account_id = accountId;
  return template as AwsEvent['aws'];
}
