/**
 * THE list of configuration options: tag (Wazuh's spelling), section, type, default, allowed values,
 * description, and the parser that validates it. The loader (load.ts), the defaults, `tld check-config`,
 * docs/config.md and the README's reference table all come from here.
 */
import { isIP } from 'node:net';
import * as v from './values.js';
import type { Parsed } from './values.js';

export type SectionName = 'wodle' | 'bucket' | 'subscriber' | 'global' | 'alerts' | 'ruleset' | 'dashboard' | 'store' | 'indexer' | 'indexer_ssl';

export interface OptionDef {
  tag: string;
  /** property name in the typed config */
  key: string;
  type: string;
  /** default as written in the config file; undefined = unset */
  default?: string;
  allowed?: string;
  description: string;
  repeatable?: boolean;
  /** attributes the element takes (besides none) */
  attributes?: string[];
  /** accepted but reported as deprecated */
  deprecated?: string;
  /**
   * What an empty element (`<path></path>`, `<path/>`) means. Unset: an error, as Wazuh treats most empty
   * values. 'ignored': a warning, and the option stays unset (Wazuh ignores or warns on these). 'value': the
   * empty text is the value.
   */
  ifEmpty?: 'ignored' | 'value';
  parse: (text: string) => Parsed<unknown>;
}

export interface SectionDef {
  name: SectionName;
  /** how the section is written, for messages and docs */
  element: string;
  title: string;
  options: OptionDef[];
}

const YES_NO = 'yes, no';

/** Comma-separated host names or addresses, or `*`. */
function hostList(text: string): Parsed<string[]> {
  const list = text.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  const bad = list.filter((h) => h !== '*' && 'error' in v.host(h));
  if (bad.length || !list.length) return { error: `not a host name or address: ${bad.map((b) => `'${b}'`).join(', ') || "''"}` };
  return { value: [...new Set(list)] };
}

/** Comma-separated IP addresses or CIDR ranges (`10.0.0.0/8`, `fd00::/8`). */
function addressRanges(text: string): Parsed<string[]> {
  const list = text.split(',').map((a) => a.trim()).filter(Boolean);
  const bad = list.filter((a) => {
    const [ip = '', bits, extra] = a.split('/');
    const family = isIP(ip);
    if (family === 0 || extra !== undefined) return true;
    if (bits === undefined) return false;
    return !/^\d{1,3}$/.test(bits) || Number(bits) > (family === 4 ? 32 : 128);
  });
  if (bad.length || !list.length) return { error: `not an IP address or CIDR range: ${bad.map((b) => `'${b}'`).join(', ') || "''"}` };
  return { value: [...new Set(list)] };
}

export const BUCKET_TYPES = ['vpcflow', 'guardduty', 'cloudtrail', 'custom'] as const;
export const SUBSCRIBER_TYPES = ['buckets'] as const;
/** Wazuh subscriber types we recognise but do not run. */
export const UNSUPPORTED_SUBSCRIBER_TYPES = ['security_lake', 'security_hub'];
/** Wazuh bucket types we recognise but do not collect yet. */
export const UNSUPPORTED_BUCKET_TYPES = ['config', 'waf', 'alb', 'clb', 'nlb', 'server_access', 'cisco_umbrella'];

export const SECTIONS: SectionDef[] = [
  {
    name: 'wodle',
    element: '<wodle name="aws-s3">',
    title: 'Module options',
    options: [
      { tag: 'disabled', key: 'disabled', type: 'yes/no', default: 'no', allowed: YES_NO, description: 'Turns the whole module off.', parse: v.yesNo },
      { tag: 'interval', key: 'intervalSeconds', type: 'interval', default: '10m', allowed: 'positive number with unit s, m, h, d, w or M (no unit = seconds)', description: 'Time between the starts of two collection cycles. A cycle that runs longer is followed at once ("interval overtaken"); cycles never overlap. Wazuh\'s code defaults to 5s, its documentation to 10m; we follow the documentation.', parse: v.interval },
      { tag: 'run_on_start', key: 'runOnStart', type: 'yes/no', default: 'yes', allowed: YES_NO, description: 'Runs the first cycle as soon as the service starts; with `no`, waits for the first scheduled time.', parse: v.yesNo },
      { tag: 'skip_on_error', key: 'skipOnError', type: 'yes/no', default: 'yes', allowed: YES_NO, description: 'With `yes` a bad object (corrupt compression, invalid JSON, empty file…) is reported once, marked as failed and skipped, and the run goes on; it is never deleted by `remove_from_bucket`. With `no` the bucket stops at that object and resumes there next cycle. (Wazuh\'s documentation says `yes` is the default; we follow it.)', parse: v.yesNo },
      { tag: 'day', key: 'day', type: 'integer', allowed: '1–31', description: 'Day of the month for monthly runs (interval becomes a multiple of 1M). Not together with `wday`.', parse: v.integer(1, 31) },
      { tag: 'wday', key: 'wday', type: 'week day', allowed: 'sunday … saturday or sun … sat', description: 'Day of the week for weekly runs (interval becomes a multiple of 1w).', parse: v.weekday },
      { tag: 'time', key: 'time', type: 'hh:mm', description: 'Time of day (UTC) for daily, weekly or monthly runs (interval becomes a multiple of 1d).', parse: v.clockTime },
      { tag: 'workers', key: 'workers', type: 'integer', default: '0', allowed: '0–64 (0 = one per core but one, at least one)', description: "ThreatLockDown: threads that fetch objects (GetObject through the AWS SDK), decompress them and decode VPC flow logs, beside the collector's thread (rules, outputs, commits) and the store's; several objects are read at once on each. 0 starts one per core but one, for those two threads (one on a 2-core machine, where a second fetch thread only contends for the cores: measured slower and 50 MB larger). Read when collection starts: a reload keeps the threads running.", parse: v.integer(0, 64) },
      { tag: 'bucket', key: 'buckets', type: 'block', repeatable: true, attributes: ['type'], allowed: `type="${BUCKET_TYPES.join('|')}"`, description: 'One S3 bucket to read; see the bucket options.', parse: v.text },
      { tag: 'subscriber', key: 'subscribers', type: 'block', repeatable: true, attributes: ['type'], allowed: `type="${SUBSCRIBER_TYPES.join('|')}"`, description: 'An SQS queue of S3 event notifications to work on (`tld start` runs a worker); see the subscriber options.', parse: v.text },
    ],
  },
  {
    name: 'subscriber',
    element: '<subscriber type="buckets">',
    title: 'Subscriber options (workers on an SQS queue)',
    options: [
      { tag: 'sqs_name', key: 'sqsName', type: 'string', allowed: '1–80 letters, digits, `-` or `_`', description: 'The queue the S3 event notifications arrive on (S3 → SQS, S3 → SNS → SQS raw or wrapped, S3 → EventBridge → SQS); its URL is looked up with GetQueueUrl (required).', parse: v.queueName },
      { tag: 'aws_profile', key: 'awsProfile', type: 'string', description: 'Named profile for both the queue and the buckets. Unset: the SDK\'s default chain.', ifEmpty: 'ignored', parse: v.nonEmpty },
      { tag: 'iam_role_arn', key: 'iamRoleArn', type: 'ARN', description: 'Role assumed with STS AssumeRole (session name `ThreatLockDown`) to receive from the queue and read the objects.', ifEmpty: 'ignored', parse: v.roleArn },
      { tag: 'iam_role_duration', key: 'iamRoleDuration', type: 'seconds', allowed: '900–43200', description: 'Session duration of the assumed role. Needs `iam_role_arn`.', ifEmpty: 'ignored', parse: v.integer(900, 43200) },
      { tag: 'external_id', key: 'externalId', type: 'string', description: 'External id passed to AssumeRole (the role\'s trust policy asks for it). Needs `iam_role_arn`.', ifEmpty: 'ignored', parse: v.nonEmpty },
      { tag: 'sts_endpoint', key: 'stsEndpoint', type: 'URL', description: 'STS endpoint used for AssumeRole.', ifEmpty: 'ignored', parse: v.url },
      { tag: 'service_endpoint', key: 'serviceEndpoint', type: 'URL', description: 'S3 endpoint the objects are read from (VPC endpoint, FIPS, or an S3-compatible store; path-style).', ifEmpty: 'ignored', parse: v.url },
      { tag: 'sqs_endpoint', key: 'sqsEndpoint', type: 'URL', description: 'ThreatLockDown: SQS endpoint (a VPC endpoint or an SQS-compatible server), separate from the S3 one.', ifEmpty: 'ignored', parse: v.url },
      { tag: 'aws_account_alias', key: 'awsAccountAlias', type: 'string', default: '', description: 'Free text copied into every event as `aws.log_info.aws_account_alias`.', ifEmpty: 'value', parse: v.text },
      { tag: 'discard_regex', key: 'discardRegex', type: 'regex', attributes: ['field'], description: 'Drops records whose field matches the regex, as in `<bucket>`.', ifEmpty: 'ignored', parse: v.pythonRegex },
      { tag: 'key_prefix', key: 'keyPrefixes', type: 'key prefix', repeatable: true, attributes: ['type'], allowed: `type="${BUCKET_TYPES.join('|')}"`, description: 'ThreatLockDown: objects whose key starts with this prefix are read as this type, whatever their layout (the longest matching prefix wins). Needed for Firehose prefixes (`<key_prefix type="guardduty">firehose/</key_prefix>`) and `custom`; other keys take their type from the AWSLogs layout (`vpcflowlogs`, `CloudTrail`, `GuardDuty`), and a key that fits none is reported and left on the queue (it ends in the dead-letter queue).', parse: v.keyPrefix },
      { tag: 'visibility_timeout', key: 'visibilityTimeoutSecs', type: 'seconds', default: '300', allowed: '2–43200', description: 'ThreatLockDown: how long a received message stays hidden from other workers; it is extended by this much every half of it while its object is being read, so a large object is never handed to a second worker meanwhile. A failed object\'s message comes back after it.', parse: v.integer(2, 43200) },
      { tag: 'wait_time', key: 'waitTimeSecs', type: 'seconds', default: '20', allowed: '0–20', description: 'ThreatLockDown: long polling: how long a ReceiveMessage waits for messages.', parse: v.integer(0, 20) },
      { tag: 'max_messages', key: 'maxMessages', type: 'integer', default: '10', allowed: '1–10', description: 'ThreatLockDown: messages asked for per ReceiveMessage.', parse: v.integer(1, 10) },
    ],
  },
  {
    name: 'bucket',
    element: '<bucket type="…">',
    title: 'Bucket options',
    options: [
      { tag: 'name', key: 'name', type: 'string', allowed: 'S3 bucket name', description: 'The bucket to read (required).', parse: v.bucketName },
      { tag: 'path', key: 'path', type: 'key prefix', default: '', description: 'Prefix the logs sit under (the trail prefix, or Firehose\'s prefix such as `firehose/`). A trailing `/` is added.', ifEmpty: 'ignored', parse: v.keyPrefix },
      { tag: 'path_suffix', key: 'pathSuffix', type: 'key prefix', default: '', description: 'Folder inserted right after `AWSLogs/` (AWSLogs layouts only). A trailing `/` is added.', ifEmpty: 'ignored', parse: v.keyPrefix },
      { tag: 'aws_profile', key: 'awsProfile', type: 'string', description: 'Named profile of `~/.aws/credentials` / `~/.aws/config` (`AWS_SHARED_CREDENTIALS_FILE` and `AWS_CONFIG_FILE` are honoured). Unset: the SDK\'s default chain (environment, files, instance role).', ifEmpty: 'ignored', parse: v.nonEmpty },
      { tag: 'iam_role_arn', key: 'iamRoleArn', type: 'ARN', description: 'Role assumed with STS AssumeRole (session name `ThreatLockDown`) to read this bucket.', ifEmpty: 'ignored', parse: v.roleArn },
      { tag: 'iam_role_duration', key: 'iamRoleDuration', type: 'seconds', allowed: '900–43200', description: 'Session duration of the assumed role. Needs `iam_role_arn`.', ifEmpty: 'ignored', parse: v.integer(900, 43200) },
      { tag: 'aws_account_id', key: 'awsAccountIds', type: 'list', allowed: 'comma-separated 12-digit account ids', description: 'Accounts to read under `AWSLogs/`. Unset: every account found in the bucket.', parse: v.accountIds },
      { tag: 'aws_account_alias', key: 'awsAccountAlias', type: 'string', default: '', description: 'Free text copied into every event as `aws.log_info.aws_account_alias`.', ifEmpty: 'value', parse: v.text },
      { tag: 'aws_organization_id', key: 'awsOrganizationId', type: 'string', allowed: 'o- followed by 10–32 lowercase letters or digits', description: 'Organization trail folder (`AWSLogs/<org>/<account>/…`).', parse: v.organizationId },
      { tag: 'regions', key: 'regions', type: 'list', allowed: 'comma-separated region names (GovCloud included)', description: 'Regions to read. Unset: every region found in the bucket.', ifEmpty: 'ignored', parse: v.regions },
      { tag: 'only_logs_after', key: 'onlyLogsAfter', type: 'date', allowed: 'YYYY-MMM-DD (e.g. 2024-JAN-31) or YYYY-MM-DD', description: 'Oldest day folder read on the first run. Unset: the first run starts with today (UTC), as Wazuh does; use `tld replay` to read older days later.', ifEmpty: 'ignored', parse: v.logDate },
      { tag: 'remove_from_bucket', key: 'removeFromBucket', type: 'yes/no', default: 'no', allowed: YES_NO, description: 'Deletes each object after it was read successfully (needs `s3:DeleteObject`). Objects that failed are never deleted.', parse: v.yesNo },
      { tag: 'discard_regex', key: 'discardRegex', type: 'regex', attributes: ['field'], description: 'Drops records whose field (dotted path in the raw record, e.g. `action`, `eventSource`) matches the regex (Python `re.match`: anchored at the start only).', ifEmpty: 'ignored', parse: v.pythonRegex },
      { tag: 'sts_endpoint', key: 'stsEndpoint', type: 'URL', description: 'STS endpoint used for AssumeRole (e.g. a VPC endpoint).', ifEmpty: 'ignored', parse: v.url },
      { tag: 'service_endpoint', key: 'serviceEndpoint', type: 'URL', description: 'S3 endpoint (VPC endpoint, FIPS, or an S3-compatible store); path-style addressing is used.', ifEmpty: 'ignored', parse: v.url },
      { tag: 'access_key', key: 'accessKey', type: 'string', deprecated: 'Wazuh deprecated static keys in 4.4; use aws_profile or iam_role_arn.', description: 'Static access key id (deprecated).', ifEmpty: 'ignored', parse: v.nonEmpty },
      { tag: 'secret_key', key: 'secretKey', type: 'string', deprecated: 'Wazuh deprecated static keys in 4.4; use aws_profile or iam_role_arn.', description: 'Static secret key (deprecated).', ifEmpty: 'ignored', parse: v.nonEmpty },
      { tag: 'lookback_days', key: 'lookbackDays', type: 'integer', default: '1', allowed: '0–30', description: 'ThreatLockDown: day folders re-listed behind the newest one read, so objects delivered late or named out of order are still read exactly once.', parse: v.integer(0, 30) },
    ],
  },
  {
    name: 'global',
    element: '<global>',
    title: 'Global options',
    options: [
      { tag: 'logall_json', key: 'logallJson', type: 'yes/no', default: 'no', allowed: YES_NO, description: 'Writes every event, alert or not, to `DATA_DIR/logs/archives/archives.json`.', parse: v.yesNo },
    ],
  },
  {
    name: 'alerts',
    element: '<alerts>',
    title: 'Alert options',
    options: [
      { tag: 'log_alert_level', key: 'logAlertLevel', type: 'integer', default: '3', allowed: '1–16', description: 'Lowest rule level written to alerts.json.', parse: v.integer(1, 16) },
    ],
  },
  {
    name: 'ruleset',
    element: '<ruleset>',
    title: 'Rules and lists (Wazuh\'s `<ruleset>`)',
    options: [
      { tag: 'install_dir', key: 'installDir', type: 'path', description: 'ThreatLockDown: the Wazuh install folder (`/var/ossec`) that relative `<rule_dir>`, `<rule_include>`, `<list>`, `<rule_exclude>` and `<decoder_dir>` paths are read from, as Wazuh reads them; relative to the config file. Unset: the folder that holds the config file\'s `etc/` folder when the file sits in one (`/var/ossec/etc/ossec.conf` → `/var/ossec`), else the config file\'s own folder.', parse: v.nonEmpty },
      { tag: 'rule_dir', key: 'ruleDirs', type: 'path', repeatable: true, description: 'Folder of rule files (`*.xml`), loaded after the shipped AWS ruleset. Rules for other log types (another decoder, a category, or descending only from such rules) are not loaded and are counted in one note per folder, as are rules of Wazuh\'s default folder this engine cannot read. A file with the name of a shipped one replaces it; in Wazuh\'s own default folder (`ruleset/rules` of the install folder) the shipped ruleset stands in for Wazuh\'s AWS file instead.', parse: v.nonEmpty },
      { tag: 'rule_include', key: 'ruleFiles', type: 'path', repeatable: true, description: 'One extra rule file (replaces a shipped file of the same name).', parse: v.nonEmpty },
      { tag: 'list', key: 'lists', type: 'path', repeatable: true, description: 'A CDB list file your rules reference. It replaces a shipped list of the same file name (`aws-eventnames`). Read only when a loaded rule uses it. A rule\'s list that no `<list>` names is read from the install folder when it is there (as Wazuh does), else from the shipped lists.', parse: v.nonEmpty },
      { tag: 'rule_exclude', key: 'ruleExcludes', type: 'file name or path', repeatable: true, description: 'A rule file not to load: a file name excludes it from every folder (the shipped one included); a path (`ruleset/rules/0350-amazon_rules.xml`) only that file, and a path into Wazuh\'s default folder the shipped file of that name too.', parse: v.nonEmpty },
      { tag: 'decoder_dir', key: 'decoderDirs', type: 'path', repeatable: true, description: 'Accepted from a Wazuh configuration and reported once: ThreatLockDown decodes AWS logs itself, Wazuh decoders are not read.', parse: v.nonEmpty },
    ],
  },
  {
    name: 'dashboard',
    element: '<dashboard>',
    title: 'Dashboard (ThreatLockDown)',
    options: [
      { tag: 'host', key: 'host', type: 'host', default: '127.0.0.1', description: 'Address the dashboard listens on. Anything but loopback requires `password_hash` or `token`.', parse: v.host },
      { tag: 'port', key: 'port', type: 'integer', default: '8080', allowed: '1–65535', description: 'TCP port of the dashboard and API.', parse: v.integer(1, 65535) },
      { tag: 'user', key: 'user', type: 'string', default: 'admin', description: 'User name for the sign-in page.', parse: v.nonEmpty },
      { tag: 'password_hash', key: 'passwordHash', type: 'scrypt hash', description: 'Hash of the sign-in password, made with `tld dashboard hash-password`.', parse: v.scryptHash },
      { tag: 'token', key: 'token', type: 'string', allowed: 'at least 24 characters', description: 'Bearer token accepted by the API and /metrics.', parse: v.token },
      { tag: 'tls_cert', key: 'tlsCert', type: 'path', description: 'PEM certificate (chain) file: the dashboard serves HTTPS. Needed for browser sign-in beyond loopback, since session cookies are Secure; relative to the config file.', parse: v.nonEmpty },
      { tag: 'tls_key', key: 'tlsKey', type: 'path', description: 'PEM private key of `tls_cert`.', parse: v.nonEmpty },
      { tag: 'allowed_hosts', key: 'allowedHosts', type: 'list', allowed: 'comma-separated host names or addresses, or `*`', description: 'Names the dashboard answers to (the `Host` header), besides the address it listens on, `localhost` and the loopback addresses when that is loopback, and the machine\'s addresses and host name when it is `0.0.0.0` or `::`. Other names get 421 Misdirected Request, so a page whose DNS name is made to point at the dashboard (DNS rebinding) reads nothing. Add the names users or a reverse proxy reach it by; `*` answers any name. Applied by a reload (SIGHUP).', parse: hostList },
      { tag: 'trusted_proxies', key: 'trustedProxies', type: 'list', allowed: 'comma-separated IP addresses or CIDR ranges', description: "Reverse proxies in front of the dashboard (nginx, a load balancer). A request whose connection comes from one of them is taken to be from the address its `X-Forwarded-For` names (the nearest one not itself a listed proxy): that address is what sign-in lockouts count and what the log shows. Without it, every user behind a proxy shares the proxy's address, so a few failed sign-ins lock them all out; `X-Forwarded-For` from any other peer is ignored (a client cannot pick its own address). Taken up by a restart.", parse: addressRanges },
      { tag: 'signin_failures_per_address', key: 'signinFailuresPerAddress', type: 'integer', default: '5', allowed: '1–1000', description: 'Failed sign-ins from one client address (see `trusted_proxies`) before that address is locked out. Applied by a reload (SIGHUP).', parse: v.integer(1, 1000) },
      { tag: 'signin_failures_per_user', key: 'signinFailuresPerUser', type: 'integer', default: '10', allowed: '1–10000', description: 'Failed sign-ins for one user name, from any address, before that name is locked out (a password guessed from many addresses). Applied by a reload (SIGHUP).', parse: v.integer(1, 10_000) },
      { tag: 'signin_lockout_seconds', key: 'signinLockoutSeconds', type: 'integer', default: '60', allowed: '1–86400', description: 'The first lockout; each further failed sign-in of a locked-out address or name doubles it, up to `signin_max_lockout_seconds`. A locked-out sign-in is answered 429 with Retry-After, without checking the password. Applied by a reload (SIGHUP).', parse: v.integer(1, 86_400) },
      { tag: 'signin_max_lockout_seconds', key: 'signinMaxLockoutSeconds', type: 'integer', default: '900', allowed: '1–604800, at least `signin_lockout_seconds`', description: 'The longest lockout. Applied by a reload (SIGHUP).', parse: v.integer(1, 604_800) },
    ],
  },
  {
    name: 'store',
    element: '<store>',
    title: 'Store (ThreatLockDown)',
    options: [
      { tag: 'flow_retention_days', key: 'flowRetentionDays', type: 'integer', default: '30', allowed: '0–36500 (0 = forever)', description: 'Days of VPC flow records kept.', parse: v.integer(0, 36500) },
      { tag: 'alert_retention_days', key: 'alertRetentionDays', type: 'integer', default: '365', allowed: '0–36500 (0 = forever)', description: 'Days of alerts, of GuardDuty findings (counted from when a finding was last seen: one still updated stays) and of the per-object ingestion health behind the dashboard, kept.', parse: v.integer(0, 36500) },
      { tag: 'backend', key: 'backend', type: 'string', default: 'embedded', allowed: 'embedded, indexer', description: 'Where flows, alerts and GuardDuty findings are stored: `embedded` (DuckDB under `DATA_DIR/store/`, one machine, what `tld dashboard` reads) or `indexer` (the Wazuh indexer, OpenSearch or Elasticsearch of the `<indexer>` block: alerts into `wazuh-alerts-4.x-*`, flows and findings into `tld-*` indices; see the README\'s indexer section). alerts.json is written either way.', parse: v.oneOf(['embedded', 'indexer']) },
      { tag: 'memory_limit_mb', key: 'memoryLimitMb', type: 'integer', default: '64', allowed: '64–1048576', description: "Memory DuckDB may use for its cache, commits and queries, in MB. Without a limit DuckDB keeps what it wrote cached, up to 80% of the machine's memory; with one, larger dashboard queries spill to `store/` on disk.", parse: v.integer(64, 1048576) },
    ],
  },
  {
    name: 'indexer',
    element: '<indexer>',
    title: 'Indexer (Wazuh\'s `<indexer>`: the Wazuh indexer, OpenSearch or Elasticsearch)',
    options: [
      { tag: 'enabled', key: 'enabled', type: 'yes/no', default: 'yes', allowed: YES_NO, description: 'Whether the block is used. With `<store><backend>indexer</backend></store>` it must be `yes`; otherwise the block only serves `tld indexer setup`.', parse: v.yesNo },
      { tag: 'hosts', key: 'hosts', type: 'block', allowed: '`<host>` elements, each an http(s) URL', description: 'Nodes of the cluster, as in Wazuh: `<hosts><host>https://10.0.0.1:9200</host></hosts>`. Requests go to them in turn; a node that fails is tried again later.', parse: v.text },
      { tag: 'ssl', key: 'ssl', type: 'block', description: 'TLS settings; see the `<ssl>` options.', parse: v.text },
      { tag: 'credentials_file', key: 'credentialsFile', type: 'path', description: 'ThreatLockDown: file holding `username:password` for HTTP basic authentication (Wazuh keeps them in its keystore, which we cannot read). Relative to the config file. Without it, the environment variables `TLD_INDEXER_USERNAME` and `TLD_INDEXER_PASSWORD` are used when set. Credentials are never logged.', parse: v.nonEmpty },
      { tag: 'bulk_max_bytes', key: 'bulkMaxBytes', type: 'integer', default: '5242880', allowed: '1024–104857600', description: 'ThreatLockDown: largest `_bulk` request body, in bytes (documents are sent as soon as this much is pending, and at each commit).', parse: v.integer(1024, 104_857_600) },
      { tag: 'correlation_grace_seconds', key: 'correlationGraceSeconds', type: 'integer', default: '900', allowed: '0–604800', description: 'ThreatLockDown, with `<store><backend>indexer</backend>`: frequency rules (port scan, brute force, any rule with `frequency`/`timeframe`) are fired by a correlator in each worker from the windows\' partial counts in the indexer (see docs/architecture.md, "Workers on a queue"). A record is counted once it is this many seconds older than the newest record time any worker has written: records of a window that arrive later than that (a late object) can fire the window a second time. Longer waits delay the alerts; 0 fires as soon as the records are in.', parse: v.integer(0, 604_800) },
      { tag: 'correlation_interval_seconds', key: 'correlationIntervalSeconds', type: 'integer', default: '60', allowed: '1–86400', description: 'ThreatLockDown, with `<store><backend>indexer</backend>`: seconds between two passes of the correlator of `tld start` (`tld run-once` runs one pass at its end).', parse: v.integer(1, 86_400) },
    ],
  },
  {
    name: 'indexer_ssl',
    element: '<indexer><ssl>',
    title: 'Indexer TLS (Wazuh\'s `<indexer><ssl>`)',
    options: [
      { tag: 'certificate_authorities', key: 'certificateAuthorities', type: 'block', allowed: '`<ca>` elements, each a PEM file', description: 'CA certificates the nodes\' certificates must chain to: `<certificate_authorities><ca>/etc/root-ca.pem</ca></certificate_authorities>`. Unset: the system\'s CAs. Relative to the config file.', parse: v.text },
      { tag: 'certificate', key: 'certificate', type: 'path', description: 'PEM client certificate (mutual TLS). Relative to the config file.', parse: v.nonEmpty },
      { tag: 'key', key: 'key', type: 'path', description: 'PEM private key of `certificate`.', parse: v.nonEmpty },
    ],
  },
];

export function section(name: SectionName): SectionDef {
  const s = SECTIONS.find((x) => x.name === name);
  if (!s) throw new Error(`unknown config section ${name}`);
  return s;
}

/** The typed default of every option of a section that has one. */
export function defaults(name: SectionName): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const o of section(name).options) {
    if (o.default === undefined) continue;
    const parsed = o.parse(o.default);
    if ('error' in parsed) throw new Error(`schema default of ${o.tag} is invalid: ${parsed.error}`);
    out[o.key] = parsed.value;
  }
  return out;
}
