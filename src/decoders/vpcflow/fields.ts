/**
 * VPC Flow Log fields (v2–v8). Columns come from each file's header; names become Wazuh-style keys
 * (hyphens → underscores, e.g. `account-id` → `account_id`). Numbers are typed, start/end become ISO time.
 */

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

/** Unix seconds → `YYYY-MM-DDTHH:MM:SSZ` (Wazuh's format, no milliseconds). */
export function isoSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 19) + 'Z';
}
