import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BucketConfig, SubscriberConfig } from '../config/types.js';
import { buildIamPolicies } from './iam-policy.js';

function bucket(p: Partial<BucketConfig> & Pick<BucketConfig, 'type' | 'name'>): BucketConfig {
  return {
    path: '',
    pathSuffix: '',
    awsAccountAlias: '',
    removeFromBucket: false,
    lookbackDays: 1,
    origin: { file: 'ossec.conf', line: 1 },
    ...p,
  };
}

function subscriber(p: Partial<SubscriberConfig> & Pick<SubscriberConfig, 'sqsName'>): SubscriberConfig {
  return { type: 'buckets', awsAccountAlias: '', keyPrefixes: [], visibilityTimeoutSecs: 300, waitTimeSecs: 20, maxMessages: 10, origin: { file: 'ossec.conf', line: 1 }, ...p };
}

test('a queue worker gets the SQS actions on its queue and s3:GetObject on what is announced; SendMessage only with buckets to backfill; a role is assumed', () => {
  const [only] = buildIamPolicies([], { subscribers: [subscriber({ sqsName: 'tld-events' })] });
  assert.deepEqual(only?.policy.Statement, [
    { Sid: 'Queuetldevents1', Effect: 'Allow', Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:GetQueueAttributes'], Resource: 'arn:aws:sqs:*:*:tld-events' },
    { Sid: 'ReadAnnouncedtldevents1', Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::*/*' },
  ]);
  const [withBuckets] = buildIamPolicies([bucket({ type: 'vpcflow', name: 'flows' })], { subscribers: [subscriber({ sqsName: 'q' })] });
  assert.ok(withBuckets?.policy.Statement.some((s) => Array.isArray(s.Action) && s.Action.includes('sqs:SendMessage')));
  const role = 'arn:aws:iam::333333333333:role/worker';
  const policies = buildIamPolicies([], { subscribers: [subscriber({ sqsName: 'q', iamRoleArn: role })] });
  assert.deepEqual(policies.map((p) => p.attachTo), ['base', role]);
  assert.deepEqual(policies[0]?.policy.Statement, [{ Sid: 'AssumeReadingRoles', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: [role] }]);
  assert.deepEqual(policies[1]?.buckets, ['queue q']);
});

test('multi-bucket config: list, get, delete only where remove_from_bucket', () => {
  const [base, ...rest] = buildIamPolicies([
    bucket({ type: 'vpcflow', name: 'flows' }),
    bucket({ type: 'guardduty', name: 'findings', path: 'firehose/', removeFromBucket: true }),
    bucket({ type: 'cloudtrail', name: 'trail', awsAccountIds: ['111111111111', '222222222222'], awsOrganizationId: 'o-abcdefghij' }),
  ]);
  assert.equal(rest.length, 0);
  assert.ok(base);
  assert.equal(base.attachTo, 'base');
  const byAction = (a: string) => base.policy.Statement.filter((s) => s.Action === a);
  assert.deepEqual(
    byAction('s3:ListBucket').map((s) => [s.Resource, s.Condition ?? null]),
    [
      ['arn:aws:s3:::flows', null],
      ['arn:aws:s3:::findings', { StringLike: { 's3:prefix': ['firehose/*'] } }],
      ['arn:aws:s3:::trail', null],
    ],
  );
  assert.deepEqual(byAction('s3:GetObject').map((s) => s.Resource), [
    ['arn:aws:s3:::flows/*'],
    ['arn:aws:s3:::findings/firehose/*'],
    [
      'arn:aws:s3:::trail/AWSLogs/o-abcdefghij/111111111111/CloudTrail/*',
      'arn:aws:s3:::trail/AWSLogs/o-abcdefghij/222222222222/CloudTrail/*',
    ],
  ]);
  assert.deepEqual(byAction('s3:DeleteObject').map((s) => s.Resource), [['arn:aws:s3:::findings/firehose/*']]);
  assert.equal(byAction('ec2:DescribeFlowLogs').length, 0);
  assert.equal(byAction('sts:AssumeRole').length, 0);
  const sids = base.policy.Statement.map((s) => s.Sid);
  assert.equal(new Set(sids).size, sids.length, 'statement ids are unique');
});

test('buckets read through a role: the base identity may only assume it, the role gets the S3 rights', () => {
  const role = 'arn:aws:iam::333333333333:role/tld-reader';
  const policies = buildIamPolicies([bucket({ type: 'vpcflow', name: 'central', iamRoleArn: role })]);
  assert.deepEqual(policies.map((p) => p.attachTo), ['base', role]);
  const [base, reader] = policies;
  assert.deepEqual(base?.policy.Statement, [
    { Sid: 'AssumeReadingRoles', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: [role] },
  ]);
  assert.ok(reader?.policy.Statement.some((s) => s.Action === 's3:GetObject'));
  assert.ok(!reader?.policy.Statement.some((s) => s.Action === 'sts:AssumeRole'));
});

test('GuardDuty export keys get kms:Decrypt and other partitions are honoured', () => {
  const [base] = buildIamPolicies([bucket({ type: 'guardduty', name: 'gd', awsAccountIds: ['111111111111'] })], {
    partition: 'aws-us-gov',
    kmsKeyArns: ['arn:aws-us-gov:kms:us-gov-west-1:111111111111:key/abc'],
  });
  const read = base?.policy.Statement.find((s) => s.Action === 's3:GetObject');
  assert.deepEqual(read?.Resource, ['arn:aws-us-gov:s3:::gd/AWSLogs/111111111111/GuardDuty/*']);
  assert.ok(base?.policy.Statement.some((s) => s.Action === 'kms:Decrypt'));
});

test('tld iam-policy prints the policy of a multi-bucket config', async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { spawnSync } = await import('node:child_process');
  const dir = mkdtempSync(join(tmpdir(), 'tld-iam-'));
  const conf = join(dir, 'ossec.conf');
  writeFileSync(conf, '<ossec_config><wodle name="aws-s3"><bucket type="vpcflow"><name>flows</name></bucket><bucket type="guardduty"><name>findings</name><path>firehose</path><remove_from_bucket>yes</remove_from_bucket></bucket></wodle></ossec_config>');
  const r = spawnSync(process.execPath, [new URL('../../bin/tld.js', import.meta.url).pathname, 'iam-policy', '-c', conf], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const policy = JSON.parse(r.stdout) as { Statement: { Action: string; Resource: string | string[] }[] };
  assert.deepEqual(policy.Statement.map((s) => s.Action), ['s3:ListBucket', 's3:GetObject', 's3:ListBucket', 's3:GetObject', 's3:DeleteObject']);
  assert.deepEqual(policy.Statement.find((s) => s.Action === 's3:DeleteObject')?.Resource, ['arn:aws:s3:::findings/firehose/*']);
  assert.match(r.stderr, /kms-key-arn/);
});

/**
 * The IAM actions the code calls, found in the sources themselves: every `new XCommand(` of an AWS SDK client
 * outside tests and the demo (which only talks to its own local store), and STS AssumeRole behind
 * `fromTemporaryCredentials`. GetCallerIdentity needs no permission.
 */
async function actionsTheCodeCalls(): Promise<Set<string>> {
  const { readdirSync, readFileSync, statSync } = await import('node:fs');
  const { join } = await import('node:path');
  const src = new URL('..', import.meta.url).pathname;
  const IAM: Record<string, string | null> = {
    ListObjectsV2Command: 's3:ListBucket',
    GetObjectCommand: 's3:GetObject',
    HeadObjectCommand: 's3:GetObject',
    DeleteObjectCommand: 's3:DeleteObject',
    GetCallerIdentityCommand: null,
    GetQueueUrlCommand: 'sqs:GetQueueUrl',
    ReceiveMessageCommand: 'sqs:ReceiveMessage',
    DeleteMessageCommand: 'sqs:DeleteMessage',
    ChangeMessageVisibilityCommand: 'sqs:ChangeMessageVisibility',
    GetQueueAttributesCommand: 'sqs:GetQueueAttributes',
    SendMessageBatchCommand: 'sqs:SendMessage',
  };
  const found = new Set<string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) {
        if (name !== 'demo' && name !== 'generator') walk(p);
        continue;
      }
      if (!name.endsWith('.ts') || name.endsWith('.test.ts')) continue;
      const text = readFileSync(p, 'utf8');
      if (!/@aws-sdk\//.test(text)) continue;
      for (const m of text.matchAll(/\bnew (\w+Command)\(/g)) {
        const command = m[1] as string;
        assert.ok(command in IAM, `${p} calls ${command}: add its IAM action to this test and to src/operations/iam-policy.ts`);
        const action = IAM[command];
        if (action) found.add(action);
      }
      if (/fromTemporaryCredentials\(/.test(text)) found.add('sts:AssumeRole');
    }
  };
  walk(src);
  return found;
}

test('the policy grants only actions the code calls, and each of them only when the configuration uses it', async () => {
  const called = await actionsTheCodeCalls();
  const role = 'arn:aws:iam::333333333333:role/tld-reader';
  const all = buildIamPolicies(
    [
      bucket({ type: 'vpcflow', name: 'flows', removeFromBucket: true }),
      bucket({ type: 'guardduty', name: 'findings' }),
      bucket({ type: 'cloudtrail', name: 'trail', iamRoleArn: role }),
      bucket({ type: 'custom', name: 'other' }),
    ],
    { kmsKeyArns: ['arn:aws:kms:us-east-1:111111111111:key/abc'], subscribers: [subscriber({ sqsName: 'notifications' })] },
  );
  const granted = new Set(all.flatMap((p) => p.policy.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))));
  // kms:Decrypt is not a call of ours: S3 needs it to hand out objects written with SSE-KMS
  assert.deepEqual([...granted].filter((a) => a !== 'kms:Decrypt' && !called.has(a)), [], 'granted but never called');
  assert.deepEqual([...called].filter((a) => !granted.has(a)), [], 'called but not granted');

  // a plain vpcflow bucket read by the base identity: list and read, nothing else
  const [plain] = buildIamPolicies([bucket({ type: 'vpcflow', name: 'flows' })]);
  assert.deepEqual(plain?.policy.Statement.map((s) => s.Action), ['s3:ListBucket', 's3:GetObject']);
});
