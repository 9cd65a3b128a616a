/**
 * The patched s3rver behaves like S3 where the collector depends on it: continuation tokens work on Node 20
 * without the legacy OpenSSL provider (patch: AES instead of DES), and Delimiter listings return the
 * CommonPrefixes of objects several folders below the prefix (patch: no directory pruning).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ListObjectsV2Command, GetObjectCommand } from '@aws-sdk/client-s3';
import { startS3Server } from './s3-server.js';

const root = new URL('../../', import.meta.url).pathname;

test('listing more than 1000 keys pages with continuation tokens, without --openssl-legacy-provider', () => {
  const env = { ...process.env, NODE_OPTIONS: (process.env.NODE_OPTIONS ?? '').replace('--openssl-legacy-provider', '').trim() };
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'tests/helpers/fixtures/list-many.ts', '1005'], { cwd: root, env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
  assert.deepEqual(out, { desRefused: true, pages: 2, seen: 1005, inOrder: true, small: 19, smallInOrder: true });
});

test('Delimiter "/" finds account and organization folders with objects several levels below', async () => {
  const s3 = await startS3Server();
  try {
    const keys = [
      'AWSLogs/111111111111/vpcflowlogs/us-east-1/2024/01/02/a.log',
      'AWSLogs/222222222222/vpcflowlogs/eu-west-1/2024/01/02/b.log',
      'AWSLogs/o-abcdef1234/333333333333/CloudTrail/us-east-1/2024/01/02/c.json',
      'AWSLogs/readme.txt',
      'other/2024/01/02/03/d',
    ];
    for (const k of keys) await s3.putObject('disc', k, 'x');
    const top = await s3.client.send(new ListObjectsV2Command({ Bucket: 'disc', Delimiter: '/' }));
    assert.deepEqual(top.CommonPrefixes?.map((p) => p.Prefix), ['AWSLogs/', 'other/']);
    const accounts = await s3.client.send(new ListObjectsV2Command({ Bucket: 'disc', Prefix: 'AWSLogs/', Delimiter: '/' }));
    assert.deepEqual(accounts.CommonPrefixes?.map((p) => p.Prefix), ['AWSLogs/111111111111/', 'AWSLogs/222222222222/', 'AWSLogs/o-abcdef1234/']);
    assert.deepEqual(accounts.Contents?.map((o) => o.Key), ['AWSLogs/readme.txt']);
    const regions = await s3.client.send(new ListObjectsV2Command({ Bucket: 'disc', Prefix: 'AWSLogs/222222222222/vpcflowlogs/', Delimiter: '/' }));
    assert.deepEqual(regions.CommonPrefixes?.map((p) => p.Prefix), ['AWSLogs/222222222222/vpcflowlogs/eu-west-1/']);
    // delimiter pages: MaxKeys counts prefixes too, and the token resumes after the last prefix
    const first = await s3.client.send(new ListObjectsV2Command({ Bucket: 'disc', Prefix: 'AWSLogs/', Delimiter: '/', MaxKeys: 2 }));
    assert.equal(first.IsTruncated, true);
    assert.deepEqual(first.CommonPrefixes?.map((p) => p.Prefix), ['AWSLogs/111111111111/', 'AWSLogs/222222222222/']);
    const second = await s3.client.send(
      new ListObjectsV2Command({ Bucket: 'disc', Prefix: 'AWSLogs/', Delimiter: '/', MaxKeys: 2, ContinuationToken: first.NextContinuationToken }),
    );
    assert.deepEqual([...(second.CommonPrefixes ?? []).map((p) => p.Prefix), ...(second.Contents ?? []).map((o) => o.Key)], ['AWSLogs/o-abcdef1234/', 'AWSLogs/readme.txt']);
  } finally {
    await s3.close();
  }
});

test('putObject stores the exact bytes and the given LastModified', async () => {
  const s3 = await startS3Server();
  try {
    const when = new Date('2024-03-04T05:06:07Z');
    const body = Buffer.from([0x1f, 0x8b, 0, 1, 2, 255]);
    await s3.putObject('bytes', 'x/y.gz', body, when);
    const res = await s3.client.send(new GetObjectCommand({ Bucket: 'bytes', Key: 'x/y.gz' }));
    assert.deepEqual(Buffer.from(await res.Body!.transformToByteArray()), body);
    assert.equal(res.LastModified?.toISOString(), when.toISOString());
  } finally {
    await s3.close();
  }
});
