/**
 * The credential-checking doubles work with the real AWS SDK: the SigV4 proxy accepts only correctly signed
 * requests and names the signer; the STS protocol double issues temporary credentials the proxy accepts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { S3Client, ListObjectsV2Command, GetObjectCommand } from '@aws-sdk/client-s3';
import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
import { startS3Server, type TestS3Server } from './s3-server.js';
import { startSigV4Proxy, type SigV4Proxy } from './sigv4-proxy.js';
import { startStsDouble, type StsDouble } from './sts-double.js';
import { KeyRing, newUser } from './sigv4.js';

let s3: TestS3Server;
let proxy: SigV4Proxy;
let sts: StsDouble;
const keys = new KeyRing();
const reader = keys.add(newUser('111111111111', 'reader', ['logs']));
const outsider = keys.add(newUser('111111111111', 'outsider'));
const ROLE = 'arn:aws:iam::222222222222:role/log-reader';

function s3With(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }): S3Client {
  return new S3Client({ endpoint: proxy.endpoint, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
}

before(async () => {
  s3 = await startS3Server();
  await s3.putObject('logs', 'a/b/c.txt', 'hello');
  await s3.putObject('private', 'x.txt', 'secret');
  proxy = await startSigV4Proxy({ target: s3.endpoint, keys });
  sts = await startStsDouble({ keys, roles: { [ROLE]: { trusted: [reader.arn], buckets: ['private'] } } });
});
after(async () => {
  await proxy.close();
  await sts.close();
  await s3.close();
});

test('SigV4 proxy forwards correctly signed requests and records the signer', async () => {
  const c = s3With(reader);
  const page = await c.send(new ListObjectsV2Command({ Bucket: 'logs', Prefix: 'a/' }));
  assert.deepEqual(page.Contents?.map((o) => o.Key), ['a/b/c.txt']);
  const obj = await c.send(new GetObjectCommand({ Bucket: 'logs', Key: 'a/b/c.txt' }));
  assert.equal(await obj.Body?.transformToString(), 'hello');
  assert.deepEqual(proxy.requests.slice(-2).map((r) => [r.method, r.arn, r.status]), [
    ['GET', reader.arn, 200],
    ['GET', reader.arn, 200],
  ]);
  c.destroy();
});

test('SigV4 proxy rejects a wrong secret, an unknown key and a bucket outside the identity policy', async () => {
  const wrong = s3With({ accessKeyId: reader.accessKeyId, secretAccessKey: `${reader.secretAccessKey}x` });
  await assert.rejects(wrong.send(new ListObjectsV2Command({ Bucket: 'logs' })), (e: Error & { $metadata?: { httpStatusCode?: number } }) => e.name === 'SignatureDoesNotMatch' && e.$metadata?.httpStatusCode === 403);
  const unknown = s3With({ accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' });
  await assert.rejects(unknown.send(new ListObjectsV2Command({ Bucket: 'logs' })), { name: 'InvalidAccessKeyId' });
  const denied = s3With(reader);
  await assert.rejects(denied.send(new ListObjectsV2Command({ Bucket: 'private' })), (e: Error) => e.name === 'AccessDenied' && e.message.includes(`User: ${reader.arn} is not authorized to perform: s3:ListBucket on resource: "arn:aws:s3:::private"`));
  // an identity without a bucket list may read everything
  const ok = s3With(outsider);
  assert.equal((await ok.send(new ListObjectsV2Command({ Bucket: 'private' }))).KeyCount, 1);
  for (const c of [wrong, unknown, denied, ok]) c.destroy();
});

test('STS protocol double: AssumeRole issues temporary credentials the proxy accepts, only for trusted callers', async () => {
  const client = new STSClient({ endpoint: sts.endpoint, region: 'us-east-1', credentials: reader, maxAttempts: 1 });
  const res = await client.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'ThreatLockDown', DurationSeconds: 1200 }));
  const cr = res.Credentials!;
  assert.match(cr.AccessKeyId!, /^ASIA/);
  assert.ok(cr.Expiration!.getTime() - Date.now() > 1100_000 && cr.Expiration!.getTime() - Date.now() <= 1200_000);
  assert.equal(res.AssumedRoleUser?.Arn, 'arn:aws:sts::222222222222:assumed-role/log-reader/ThreatLockDown');
  assert.deepEqual(sts.calls.at(-1), { roleArn: ROLE, roleSessionName: 'ThreatLockDown', durationSeconds: 1200, callerArn: reader.arn, result: cr.AccessKeyId });
  const temp = s3With({ accessKeyId: cr.AccessKeyId!, secretAccessKey: cr.SecretAccessKey!, sessionToken: cr.SessionToken! });
  assert.equal((await temp.send(new ListObjectsV2Command({ Bucket: 'private' }))).KeyCount, 1);
  assert.equal(proxy.requests.at(-1)?.arn, res.AssumedRoleUser?.Arn);
  // the role is limited to its bucket, and the session token is required
  await assert.rejects(temp.send(new ListObjectsV2Command({ Bucket: 'logs' })), { name: 'AccessDenied' });
  const noToken = s3With({ accessKeyId: cr.AccessKeyId!, secretAccessKey: cr.SecretAccessKey! });
  await assert.rejects(noToken.send(new ListObjectsV2Command({ Bucket: 'private' })), { name: 'InvalidToken' });
  // an untrusted caller and a wrong secret are refused the way STS refuses them
  const untrusted = new STSClient({ endpoint: sts.endpoint, region: 'us-east-1', credentials: outsider, maxAttempts: 1 });
  await assert.rejects(untrusted.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'x1' })), (e: Error) => e.name === 'AccessDenied' && e.message.includes('sts:AssumeRole'));
  const badSecret = new STSClient({ endpoint: sts.endpoint, region: 'us-east-1', credentials: { ...reader, secretAccessKey: 'nope' }, maxAttempts: 1 });
  await assert.rejects(badSecret.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'x2' })), { name: 'SignatureDoesNotMatch' });
  for (const c of [client, temp, noToken, untrusted, badSecret]) c.destroy();
});
