/**
 * The direct GET (direct-get.ts) against s3rver behind the SigV4-checking proxy: signatures S3 accepts for every
 * kind of key, one request per object when it succeeds, and the SDK's behaviour (its errors, its retries) for
 * everything else.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startS3Server, type TestS3Server } from '../../../tests/helpers/s3-server.js';
import { startSigV4Proxy, type SigV4Proxy } from '../../../tests/helpers/sigv4-proxy.js';
import { KeyRing, newUser } from '../../../tests/helpers/sigv4.js';
import { createS3Client, createS3Source, type ObjectSource } from './client.js';
import { directGetter } from './direct-get.js';
import { S3AccessError } from './errors.js';
import type { BucketConfig } from '../../config/types.js';

let s3: TestS3Server;
let proxy: SigV4Proxy;
const keys = new KeyRing();
const reader = keys.add(newUser('111111111111', 'reader', ['logs']));
// keys as S3 allows them: spaces, plus signs, percent signs, unicode, RFC 3986 sub-delimiters, dots
const KEYS = ['AWSLogs/a b/c+d.log', 'x/%41%2F/é ü/ß.gz', "odd/!'()*~_-./x.log", 'deep/a/b/c/d/e/f.json', 'top.gz'];

const bucket = (over: Partial<BucketConfig> = {}) =>
  ({ name: 'logs', serviceEndpoint: proxy.endpoint, accessKey: reader.accessKeyId, secretKey: reader.secretAccessKey, ...over }) as BucketConfig;

async function readAll(source: ObjectSource, key: string): Promise<string> {
  const o = await source.get(key);
  const parts: Buffer[] = [];
  for await (const c of o.body) parts.push(Buffer.from(c));
  return Buffer.concat(parts).toString('utf8');
}

before(async () => {
  s3 = await startS3Server();
  for (const k of KEYS) await s3.putObject('logs', k, `body of ${k}`);
  proxy = await startSigV4Proxy({ target: s3.endpoint, keys });
});
after(async () => {
  await proxy.close();
  await s3.close();
});

test('every kind of key is fetched in one correctly signed request, size and LastModified as S3 gives them', async () => {
  const source = await createS3Source(bucket());
  try {
    for (const k of KEYS) {
      const before = proxy.requests.length;
      const o = await source.get(k);
      const parts: Buffer[] = [];
      for await (const c of o.body) parts.push(Buffer.from(c));
      assert.equal(Buffer.concat(parts).toString('utf8'), `body of ${k}`);
      assert.equal(o.size, Buffer.byteLength(`body of ${k}`));
      assert.ok(o.lastModified instanceof Date && !Number.isNaN(o.lastModified.getTime()));
      const made = proxy.requests.slice(before);
      assert.equal(made.length, 1, `one request for ${k}: ${JSON.stringify(made)}`);
      assert.equal(made[0]?.status, 200);
      assert.equal(made[0]?.accessKeyId, reader.accessKeyId);
      assert.doesNotMatch(made[0]?.query ?? '', /x-id=GetObject/, 'not through the SDK command');
    }
  } finally {
    source.close?.();
  }
});

test('the direct GET answers undefined for anything but a 200, and the source then gives the SDK error', async () => {
  const client = await createS3Client(bucket());
  try {
    const direct = await directGetter(client, 'logs');
    assert.ok(direct, 'plain SigV4 endpoints are fetched directly');
    assert.equal(await direct('no/such/key.gz'), undefined);
  } finally {
    client.destroy();
  }
  const source = await createS3Source(bucket());
  try {
    await assert.rejects(source.get('no/such/key.gz'), (e: unknown) => e instanceof S3AccessError && e.code === 'TLD_ERR_S3_NO_SUCH_KEY');
    // after a fallback the direct path rests: the next object costs one request (the SDK's), not two
    const before = proxy.requests.length;
    assert.equal(await readAll(source, 'top.gz'), 'body of top.gz');
    assert.equal(proxy.requests.length - before, 1);
  } finally {
    source.close?.();
  }
});

test('a wrong secret: the signature is refused, and the error the user sees is the SDK\'s access error', async () => {
  const source = await createS3Source(bucket({ secretKey: 'not-the-secret' }), { maxAttempts: 1 });
  try {
    await assert.rejects(source.get('top.gz'), (e: unknown) => e instanceof S3AccessError && /SignatureDoesNotMatch|signature/i.test(e.message));
  } finally {
    source.close?.();
  }
});

test('a 503 on the direct GET is retried by the SDK, which then reads the object', async () => {
  const source = await createS3Source(bucket());
  try {
    proxy.inject([{ kind: 'status', status: 503, code: 'SlowDown' }], { onlyGet: true });
    assert.equal(await readAll(source, 'deep/a/b/c/d/e/f.json'), 'body of deep/a/b/c/d/e/f.json');
  } finally {
    source.close?.();
  }
});

test('directGet: false sends every GET through the SDK command', async () => {
  const source = await createS3Source(bucket(), { directGet: false });
  try {
    const before = proxy.requests.length;
    assert.equal(await readAll(source, 'top.gz'), 'body of top.gz');
    const made = proxy.requests.slice(before);
    assert.equal(made.length, 1);
    assert.match(made[0]?.query ?? '', /x-id=GetObject/);
  } finally {
    source.close?.();
  }
});
