/**
 * `tld doctor`: checks each configured bucket live and explains what is wrong and how to fix it — the plain
 * answer to "why are no logs coming in?". Every check yields a line: ok, warn (works, but look at this) or
 * fail (nothing will be read until it is fixed), with the fix.
 */
import type { BucketConfig, SubscriberConfig } from '../config/types.js';
import type { MessageQueue } from '../sources/sqs/queue.js';
import type { ObjectSource } from '../sources/s3/client.js';
import { scopesOf } from '../sources/s3/collect-bucket.js';
import { ACCOUNT_FOLDER, SERVICE_FOLDER, awsLogsBase, classifyKey, dayOf, flowLogIdOf, lastFolder } from '../sources/s3/layout.js';
import type { StateStore } from '../sources/s3/state/types.js';
import type { IndexerPort } from '../indexer/client.js';
import { IndexerRequestError } from '../indexer/errors.js';
import { planTemplates } from '../indexer/templates.js';

export type Verdict = 'ok' | 'warn' | 'fail' | 'info';

export interface Check {
  verdict: Verdict;
  what: string;
  detail: string;
}

export interface DoctorDeps {
  source: ObjectSource;
  now: () => Date;
  /** who the credentials belong to, when it can be asked (STS GetCallerIdentity) */
  identity?: () => Promise<string>;
  state?: StateStore;
}

function age(ms: number): string {
  const h = ms / 3_600_000;
  return h < 1 ? `${Math.round(ms / 60_000)} min` : h < 48 ? `${h.toFixed(1)} h` : `${(h / 24).toFixed(1)} days`;
}

/** Runs every check of one bucket, in order; stops early when the bucket cannot be listed at all. */
export async function diagnoseBucket(b: BucketConfig, deps: DoctorDeps): Promise<Check[]> {
  const out: Check[] = [];
  const add = (verdict: Verdict, what: string, detail: string) => out.push({ verdict, what, detail });
  const { source } = deps;

  if (deps.identity) {
    try {
      add('ok', 'credentials', `resolve to ${await deps.identity()}`);
    } catch (e) {
      add('info', 'credentials', `could not ask STS who they belong to (${(e as Error).message.split('\n')[0]})`);
    }
  }

  let topFolders: string[];
  try {
    topFolders = await source.listPrefixes(b.path);
    add('ok', 'list', `s3:ListBucket on ${b.name} works`);
  } catch (e) {
    add('fail', 'list', (e as Error).message);
    return out;
  }

  const scopes = await scopesOf(b, source);
  if (scopes.length === 0) {
    const rootFolders = b.path ? (await source.listPrefixes('')).map((f) => f) : topFolders;
    const hint =
      b.type === 'guardduty' || b.type === 'custom'
        ? `expected ${b.path || '(bucket root)'}YYYY/MM/DD/HH/ (Firehose) or ${b.path}AWSLogs/<account>/GuardDuty/<region>/`
        : `expected ${awsLogsBase(b)}<account>/${SERVICE_FOLDER[b.type]}/<region>/YYYY/MM/DD/`;
    add('fail', 'layout', `no logs where this configuration looks: ${hint}. Folders found at ${b.path ? `s3://${b.name}/${b.path}` : 'the bucket root'}: ${topFolders.join(', ') || 'none'}${b.path ? `; at the root: ${rootFolders.slice(0, 10).join(', ') || 'none'} — is <path> right?` : ''}`);
    return out;
  }

  // accounts and regions present vs configured
  if (b.type !== 'custom' && !(b.type === 'guardduty' && scopes.every((s) => !s.account))) {
    const present = [...new Set(scopes.map((s) => s.account).filter(Boolean))];
    add('ok', 'accounts', present.join(', '));
    if (b.awsAccountIds) {
      const inBucket = (await source.listPrefixes(awsLogsBase(b))).map(lastFolder).filter((f) => ACCOUNT_FOLDER.test(f));
      const skipped = inBucket.filter((a) => !b.awsAccountIds?.includes(a));
      if (skipped.length) add('warn', 'accounts', `the bucket also holds ${skipped.join(', ')}, skipped because <aws_account_id> does not list them`);
      const missing = b.awsAccountIds.filter((a) => !inBucket.includes(a));
      if (missing.length) add('fail', 'accounts', `<aws_account_id> lists ${missing.join(', ')}, which has no folder in ${awsLogsBase(b)}`);
    }
    const regions = [...new Set(scopes.map((s) => s.region).filter(Boolean))];
    add('ok', 'regions', regions.join(', '));
    if (b.regions) {
      for (const acct of present) {
        const service = SERVICE_FOLDER[b.type as keyof typeof SERVICE_FOLDER];
        const inBucket = (await source.listPrefixes(`${awsLogsBase(b)}${acct}/${service}/`)).map(lastFolder);
        const skipped = inBucket.filter((r) => !b.regions?.includes(r));
        if (skipped.length) add('warn', 'regions', `account ${acct} also has ${skipped.join(', ')}, skipped because <regions> does not list them`);
      }
    }
  }

  // newest object per scope, its age, and what only_logs_after skips
  const now = deps.now();
  let newest: { key: string; at: Date } | undefined;
  let beforeOnlyAfter = 0;
  const flowLogs = new Set<string>();
  let objects = 0;
  for (const scope of scopes) {
    for await (const obj of source.list(scope.prefix)) {
      if (!classifyKey(b.type, obj.key).read) continue;
      objects++;
      const day = dayOf(obj.key, scope.prefix);
      if (b.onlyLogsAfter && day && day < b.onlyLogsAfter) beforeOnlyAfter++;
      if (b.type === 'vpcflow') flowLogs.add(flowLogIdOf(obj.key) || '(no flow-log id in the name)');
      const at = obj.lastModified ?? new Date(0);
      if (!newest || at > newest.at) newest = { key: obj.key, at };
    }
  }
  if (b.type === 'vpcflow') add('ok', 'flow logs', [...flowLogs].join(', '));
  if (!newest) {
    add('fail', 'objects', 'the folders exist but hold no log object');
    return out;
  }
  const lag = now.getTime() - newest.at.getTime();
  add(lag > 86_400_000 ? 'warn' : 'ok', 'newest object', `s3://${b.name}/${newest.key}, written ${age(lag)} ago${lag > 86_400_000 ? ' — is the service still delivering logs here?' : ''}`);
  add('info', 'objects', `${objects} log objects under the configured layout`);
  if (beforeOnlyAfter) add('warn', 'only_logs_after', `${beforeOnlyAfter} objects are older than <only_logs_after> ${b.onlyLogsAfter} and are skipped (use tld replay to read them)`);
  if (!b.onlyLogsAfter && deps.state && deps.state.scopes().filter((s) => s.bucket === b.name).length === 0) {
    add('info', 'first run', 'no <only_logs_after>: the first run reads from today (UTC) on, as Wazuh does; set it to read older days');
  }

  try {
    await source.get(newest.key);
    add('ok', 'read', 's3:GetObject works');
  } catch (e) {
    add('fail', 'read', (e as Error).message);
  }
  if (b.removeFromBucket) {
    add('info', 'delete', 'not checked (S3 has no dry run for DeleteObject); `tld iam-policy` shows the s3:DeleteObject statement it needs');
  }
  if (deps.state) {
    const mine = deps.state.scopes().filter((s) => s.bucket === b.name && s.type === b.type);
    for (const s of mine.slice(0, 20)) {
      add('info', 'state', `${[s.account, s.region, s.flowLogId].filter(Boolean).join('/') || s.path || '(bucket)'}: read up to ${deps.state.newestDay(s) ?? 'nothing yet'}`);
    }
  }
  return out;
}

/**
 * The checks of one queue worker (`<subscriber>`): the queue is found (GetQueueUrl) and readable
 * (GetQueueAttributes), a dead-letter queue catches what keeps failing, and how much is waiting. Nothing is
 * received: a message taken by the doctor would be hidden from the workers.
 */
export async function diagnoseSubscriber(s: SubscriberConfig, open: (s: SubscriberConfig) => Promise<MessageQueue>): Promise<Check[]> {
  const out: Check[] = [];
  const add = (verdict: Verdict, what: string, detail: string) => out.push({ verdict, what, detail });
  let queue: MessageQueue;
  try {
    queue = await open(s);
    add('ok', 'queue', `${s.sqsName} found (${queue.url})`);
  } catch (e) {
    add('fail', 'queue', (e as Error).message);
    return out;
  }
  try {
    const a = await queue.attributes(['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'RedrivePolicy', 'MessageRetentionPeriod']);
    add('ok', 'attributes', 'sqs:GetQueueAttributes works');
    add('info', 'messages', `${a.ApproximateNumberOfMessages ?? '?'} waiting, ${a.ApproximateNumberOfMessagesNotVisible ?? '?'} being handled`);
    if (a.RedrivePolicy) {
      let policy: { deadLetterTargetArn?: string; maxReceiveCount?: number | string } = {};
      try {
        policy = JSON.parse(a.RedrivePolicy) as typeof policy;
      } catch {
        // reported below as a policy without a target
      }
      add('ok', 'dead-letter queue', `${policy.deadLetterTargetArn ?? '(no target in the RedrivePolicy)'} after ${String(policy.maxReceiveCount ?? '?')} receives`);
    } else {
      add('warn', 'dead-letter queue', 'none: a message whose object cannot be read comes back until the queue\'s retention drops it; give the queue a RedrivePolicy (a dead-letter queue, maxReceiveCount 5 or more)');
    }
    const retention = Number(a.MessageRetentionPeriod ?? 0);
    if (retention > 14 * 86_400) add('warn', 'retention', `${retention} s: longer than the 14 days the worker remembers objects by the day their message was sent`);
  } catch (e) {
    add('fail', 'attributes', (e as Error).message);
  } finally {
    queue.close();
  }
  add('info', 'receive', 'not checked (a message the doctor received would be hidden from the workers); the first `tld start` logs a failing ReceiveMessage or DeleteMessage with the permission to grant');
  if (s.keyPrefixes.length === 0) add('info', 'source types', 'from the key layout only (AWSLogs/<account>/vpcflowlogs|CloudTrail|GuardDuty/…); Firehose or custom prefixes need <key_prefix type="…">');
  return out;
}

/**
 * The checks of the indexer of `<store><backend>indexer</backend>`: it answers (GET /), it takes the credentials
 * (a 401/403 is named as such), and the index templates are there — `tld start` installs missing ones itself when
 * the user may, so missing templates are a warning that says to run `tld indexer setup` with a user who may.
 */
export async function diagnoseIndexer(hosts: string, open: () => Promise<IndexerPort>): Promise<Check[]> {
  const out: Check[] = [];
  const add = (verdict: Verdict, what: string, detail: string) => out.push({ verdict, what, detail });
  let port: IndexerPort;
  try {
    port = await open();
  } catch (e) {
    add('fail', 'client', (e as Error).message);
    return out;
  }
  try {
    try {
      const info = await port.info();
      add('ok', 'reachable', `${hosts} answers (${info.distribution} ${info.number})`);
      add('ok', 'credentials', 'accepted');
    } catch (e) {
      const status = e instanceof IndexerRequestError ? e.status : 0;
      add('fail', status === 401 || status === 403 ? 'credentials' : 'reachable', (e as Error).message);
      return out;
    }
    try {
      const plan = planTemplates(await port.templates());
      if (plan.installed.length === 0) add('ok', 'templates', `installed${plan.alertsTemplate ? ` (alert indices typed by ${plan.alertsTemplate})` : ''}`);
      else add('warn', 'templates', `missing or older than ours: ${plan.installed.join(', ')}; run \`tld indexer setup -c FILE\` (tld start installs them too, when its user may manage index templates)`);
    } catch (e) {
      add('fail', 'templates', (e as Error).message);
    }
  } finally {
    await port.close();
  }
  return out;
}
