/**
 * The typed configuration every stage receives. Produced by `loadConfig()` (src/config/load.ts) from an
 * ossec.conf; `src/config/schema.ts` is the single source of options, defaults, validation and docs, and
 * this shape is what it yields. Wazuh tag names map to camelCase here and nowhere else.
 */
import type { BucketType } from '../shared/events.js';

export interface DiscardRegex {
  /** dotted path relative to the raw record, e.g. `action`, `eventSource`, `partition` */
  field: string;
  /** Python re.match semantics: anchored at the start, not at the end */
  regex: string;
}

export interface BucketConfig {
  type: BucketType;
  name: string;
  /** key prefix; '' or ending with '/' */
  path: string;
  /** inserted right after `AWSLogs/`; '' or ending with '/' */
  pathSuffix: string;
  awsProfile?: string;
  iamRoleArn?: string;
  /** seconds, 900..43200 */
  iamRoleDuration?: number;
  /** 12-digit account ids; undefined = discover from the bucket */
  awsAccountIds?: string[];
  awsAccountAlias: string;
  awsOrganizationId?: string;
  /** undefined = discover from the bucket */
  regions?: string[];
  /** UTC date `YYYY-MM-DD` parsed from Wazuh's `YYYY-MMM-DD` */
  onlyLogsAfter?: string;
  removeFromBucket: boolean;
  discardRegex?: DiscardRegex;
  stsEndpoint?: string;
  serviceEndpoint?: string;
  /** AssumeRole external id (set for buckets read on behalf of a subscriber) */
  externalId?: string;
  /** deprecated static keys (Wazuh `access_key`/`secret_key`) */
  accessKey?: string;
  secretKey?: string;
  /** ThreatLockDown extension `<lookback_days>`: day folders re-listed behind the newest one, to catch late files */
  lookbackDays: number;
  /** where the `<bucket>` element starts, for messages */
  origin: { file: string; line: number };
}

/** `<key_prefix type="…">`: keys under `prefix` are read as `type` (ThreatLockDown). */
export interface KeyPrefixType {
  prefix: string;
  type: BucketType;
}

/** `<subscriber type="buckets">`: a worker on an SQS queue of S3 event notifications (src/sources/sqs/). */
export interface SubscriberConfig {
  type: 'buckets';
  sqsName: string;
  awsProfile?: string;
  iamRoleArn?: string;
  iamRoleDuration?: number;
  externalId?: string;
  stsEndpoint?: string;
  /** S3 endpoint */
  serviceEndpoint?: string;
  /** SQS endpoint (ThreatLockDown) */
  sqsEndpoint?: string;
  awsAccountAlias: string;
  discardRegex?: DiscardRegex;
  /** per-prefix source types, longest prefix first */
  keyPrefixes: KeyPrefixType[];
  visibilityTimeoutSecs: number;
  waitTimeSecs: number;
  maxMessages: number;
  origin: { file: string; line: number };
}

export interface Schedule {
  /** day of month 1..31 (interval forced to months) */
  day?: number;
  /** 0 = sunday .. 6 = saturday (interval forced to weeks) */
  wday?: number;
  /** `hh:mm` UTC */
  time?: string;
}

export interface AwsS3Config {
  disabled: boolean;
  intervalSeconds: number;
  runOnStart: boolean;
  skipOnError: boolean;
  /** `<workers>`: fetch threads, 0 = one per core but one (at least one) */
  workers: number;
  schedule: Schedule;
  buckets: BucketConfig[];
  subscribers: SubscriberConfig[];
}

export interface RulesetConfig {
  /** extra rule folders/files loaded after the shipped ruleset (Wazuh `<rule_dir>`, `<rule_include>`) */
  ruleDirs: string[];
  ruleFiles: string[];
  /** CDB list files (Wazuh `<list>`), referenced from rules by path as in Wazuh (`etc/lists/...`) */
  lists: string[];
  /** rule files not to load (Wazuh `<rule_exclude>`): a file name (everywhere) or an absolute path */
  ruleExcludes: string[];
  /** Wazuh `<decoder_dir>` folders: accepted and reported, never read (AWS logs are decoded natively) */
  decoderDirs?: string[];
  /**
   * The Wazuh install folder relative ruleset paths were resolved from (`<install_dir>`, or the folder holding
   * the config's `etc/`). Its `ruleset/rules` is Wazuh's default rule folder, and a rule's list that no `<list>`
   * names is looked up under it. Unset (rules loaded without a configuration): neither applies.
   */
  installDir?: string;
}

export interface DashboardConfig {
  host: string;
  port: number;
  /** scrypt hash `scrypt$N$r$p$saltB64$hashB64` of the dashboard password (user `admin` unless `user` set) */
  passwordHash?: string;
  user: string;
  /** bearer token accepted by the API (alternative to the password) */
  token?: string;
  /** PEM certificate and key files (absolute paths): serve HTTPS */
  tlsCert?: string;
  tlsKey?: string;
  /** extra names accepted in the Host header (`*`: any); see dashboard/hosts.ts */
  allowedHosts?: string[];
  /** reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For names the client */
  trustedProxies?: string[];
  /** sign-in lockouts (dashboard/throttle.ts); unset: its defaults, the schema's */
  signinFailuresPerAddress?: number;
  signinFailuresPerUser?: number;
  signinLockoutSeconds?: number;
  signinMaxLockoutSeconds?: number;
}

export interface StoreConfig {
  /** days of VPC flow records kept; 0 = forever */
  flowRetentionDays: number;
  /** days of alerts kept; 0 = forever */
  alertRetentionDays: number;
  /** `<backend>`: the embedded store (DuckDB, default; the loader always sets it) or the indexer of the `<indexer>` block */
  backend?: 'embedded' | 'indexer';
  /** DuckDB's memory_limit in MB (the config always sets it; unset: DuckDB's own default) */
  memoryLimitMb?: number;
}

/** Wazuh's `<indexer>` block (paths absolute) */
export interface IndexerConfig {
  enabled: boolean;
  /** node URLs from `<hosts><host>` */
  hosts: string[];
  ssl: {
    /** PEM files of `<certificate_authorities><ca>` */
    certificateAuthorities: string[];
    certificate?: string;
    key?: string;
  };
  /** ThreatLockDown: `username:password` file */
  credentialsFile?: string;
  /** ThreatLockDown: largest `_bulk` body in bytes */
  bulkMaxBytes: number;
  /** ThreatLockDown: how far behind the fleet's newest record time a frequency-rule occurrence is counted (s; the loader always sets it, default 900) */
  correlationGraceSeconds?: number;
  /** ThreatLockDown: seconds between correlator passes in `tld start` (the loader always sets it, default 60) */
  correlationIntervalSeconds?: number;
  /** where the block starts, for messages */
  origin: { file: string; line: number };
}

export interface TldConfig {
  /** every file the configuration was read from */
  files: string[];
  global: { logallJson: boolean };
  alerts: { logAlertLevel: number };
  /** null when the file has no `<wodle name="aws-s3">` */
  awsS3: AwsS3Config | null;
  ruleset: RulesetConfig;
  dashboard: DashboardConfig;
  store: StoreConfig;
  /** null when no file has an `<indexer>` block */
  indexer?: IndexerConfig | null;
}
