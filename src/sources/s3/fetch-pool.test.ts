/**
 * The fetch threads against a real S3-compatible server (s3rver over HTTP, the AWS SDK on each thread): content
 * arrives whole and in order (large objects too, past the per-stream credit), failures keep their kind across the
 * thread boundary, and a thread that dies fails only its reads, as transient, and is replaced.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { decodeBuffer, ObjectDecodeError } from '../../decoders/index.js';
import { eventsOf } from '../../decoders/vpcflow/flow-events.js';
import { startS3Server, type TestS3Server } from '../../../tests/helpers/s3-server.js';
import { bucketConfig } from '../../../tests/helpers/collector.js';
import { FetchPool, fetchThreadCount } from './fetch-pool.js';
import { S3AccessError } from './errors.js';
import { TransientReadError, type ObjectContent } from './read-object.js';
import { LIST_CHUNK, STREAM_CREDIT } from './fetch-messages.js';
import { createS3Source, FIRST_PAGE_KEYS } from './client.js';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

let s3: TestS3Server;
let pool: FetchPool;
const BUCKET = 'fetch-pool';
// text that compresses a little, so the decompressed size is several times the per-stream credit
const big = Buffer.from(Array.from({ length: 120_000 }, (_, i) => `line ${i} ${randomBytes(12).toString('hex')}\n`).join(''));
const small = Buffer.from('2 111111111111 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 1 ACCEPT OK\n');

before(async () => {
  s3 = await startS3Server();
  await s3.putObject(BUCKET, 'big.gz', gzipSync(big));
  await s3.putObject(BUCKET, 'small.log', small);
  const gz = gzipSync(big);
  await s3.putObject(BUCKET, 'truncated.gz', gz.subarray(0, gz.length - 1000));
  pool = new FetchPool(2);
});
after(async () => {
  await pool?.close();
  await s3?.close();
});

const cfg = () => bucketConfig({ type: 'vpcflow', name: BUCKET, serviceEndpoint: s3.endpoint, accessKey: 'S3RVER', secretKey: 'S3RVER' });

async function drain(content: ObjectContent): Promise<{ bytes: Buffer; error: unknown }> {
  const parts: Buffer[] = [];
  try {
    for await (const c of content.chunks) parts.push(Buffer.from(c));
    return { bytes: Buffer.concat(parts), error: undefined };
  } catch (e) {
    return { bytes: Buffer.concat(parts), error: e };
  }
}

test('objects come back decompressed, whole and in order, several at once, larger than the per-stream credit', async () => {
  assert.ok(big.length > 2 * STREAM_CREDIT);
  let compressed = 0;
  const reads = [pool.read(cfg(), { key: 'big.gz', listedSize: gzipSync(big).length }, (n) => (compressed += n)), pool.read(cfg(), { key: 'small.log', listedSize: small.length }, (n) => (compressed += n)), pool.read(cfg(), { key: 'big.gz', listedSize: 1 }, () => undefined)];
  // consumed one after another, as the collector does: the others wait within their credit meanwhile
  const [a, b, c] = [await drain(reads[0]!), await drain(reads[1]!), await drain(reads[2]!)];
  assert.equal(a.error, undefined);
  assert.ok(a.bytes.equals(big));
  assert.ok(b.bytes.equals(small));
  assert.ok(c.bytes.equals(big));
  assert.ok(compressed >= small.length + 1000, 'compressed bytes are counted');
});

test('failures keep their kind: a missing key, a body shorter than listed, a truncated gzip after its readable part', async () => {
  const missing = await drain(pool.read(cfg(), { key: 'nope.gz', listedSize: 10 }, () => undefined));
  assert.ok(missing.error instanceof S3AccessError, String(missing.error));
  assert.equal(missing.error.code, 'TLD_ERR_S3_NO_SUCH_KEY');
  const short = await drain(pool.read(cfg(), { key: 'small.log', listedSize: small.length + 50 }, () => undefined));
  assert.ok(short.error instanceof TransientReadError, String(short.error));
  assert.match(short.error.message, /ended after \d+ of its \d+ bytes/);
  const cut = await drain(pool.read(cfg(), { key: 'truncated.gz', listedSize: 0 }, () => undefined));
  assert.ok(cut.error instanceof ObjectDecodeError, String(cut.error));
  assert.equal(cut.error.code, 'TLD_ERR_DECODE_GZIP_TRUNCATED');
  assert.ok(cut.bytes.length > 0 && big.subarray(0, cut.bytes.length).equals(cut.bytes), 'what came before the cut is delivered');
});

test('a read given up early frees its stream; the pool goes on', async () => {
  const content = pool.read(cfg(), { key: 'big.gz', listedSize: 0 }, () => undefined);
  for await (const _ of content.chunks) break;
  content.discard();
  const again = await drain(pool.read(cfg(), { key: 'big.gz', listedSize: 0 }, () => undefined));
  assert.ok(again.bytes.equals(big));
});

test('a fetch thread that dies fails its reads as transient (read again, never marked bad) and is replaced', async () => {
  const one = new FetchPool(1);
  try {
    const content = one.read(cfg(), { key: 'big.gz', listedSize: 0 }, () => undefined);
    const it = content.chunks[Symbol.asyncIterator]();
    await it.next();
    await one.workers[0]!.terminate();
    let error: unknown;
    try {
      while (!(await it.next()).done);
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof TransientReadError, String(error));
    assert.match(error.message, /fetch thread reading it stopped/);
    const after = await drain(one.read(cfg(), { key: 'small.log', listedSize: small.length }, () => undefined));
    assert.ok(after.bytes.equals(small), 'the replacement thread reads');
  } finally {
    await one.close();
  }
});

test('<workers> 0 means one thread per core', () => {
  assert.ok(fetchThreadCount(0) >= 1);
  assert.equal(fetchThreadCount(3), 3);
  assert.equal(fetchThreadCount(0, 1), 1, 'one core: one fetch thread');
  assert.equal(fetchThreadCount(0, 2), 1, 'two cores: one, beside the collector and the store');
  assert.equal(fetchThreadCount(0, 8), 7);
  assert.equal(fetchThreadCount(2, 8), 2, 'an explicit count is kept');
});

test('readFlows: a VPC object decoded on the thread into FlowBatches gives the events of the in-process decoder, with its record errors', async () => {
  const lines = ['version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'];
  for (let i = 0; i < 40_000; i++) lines.push(i === 7 ? '2 bad line' : `2 111111111111 eni-0a1b2c3d4e5f60718 10.0.${i % 200}.${i % 250} 2001:db8::${i % 9} ${1024 + (i % 60000)} 443 6 10 ${i} 1750962159 1750962178 ${i % 3 ? 'ACCEPT' : 'REJECT'} OK`);
  const text = lines.join('\n') + '\n';
  await s3.putObject(BUCKET, 'flows.log.gz', gzipSync(text));
  const logInfo = { aws_account_alias: '', log_file: 'flows.log.gz', s3bucket: BUCKET };
  const content = pool.readFlows(cfg(), { key: 'flows.log.gz', listedSize: 0 }, () => undefined, { logInfo, accountId: '111111111111' });
  const got: unknown[] = [];
  for await (const batch of content.batches) got.push(...eventsOf(batch));
  const errors: string[] = [];
  const expected = decodeBuffer(Buffer.from(text), { bucketType: 'vpcflow', logInfo, accountId: '111111111111', onRecordError: (line, m) => void errors.push(`line ${line}: ${m}`) });
  assert.equal(got.length, 39_999);
  assert.deepEqual(got, expected);
  assert.deepEqual(content.recordErrors(), { count: 1, first: errors });
});

test("source(): a bucket's listings, folders and deletes run on a fetch thread, with the in-process client's answers and errors", async () => {
  const inProcess = await createS3Source(cfg());
  const keys = Array.from({ length: 620 }, (_, i) => `AWSLogs/111111111111/vpcflowlogs/us-east-1/2025/06/01/o${String(i).padStart(4, '0')}.log`);
  for (let i = 0; i < keys.length; i += 40) await Promise.all(keys.slice(i, i + 40).map((k) => s3.putObject(BUCKET, k, small)));
  await s3.putObject(BUCKET, 'AWSLogs/111111111111/vpcflowlogs/eu-west-1/2025/06/01/x.log', small);
  const source = pool.source(cfg());
  const listAll = async (s: typeof source, prefix: string, o = {}) => {
    const out = [];
    for await (const x of s.list(prefix, o)) out.push(x);
    return out;
  };
  // more keys than a first page and than several messages of LIST_CHUNK: all of them, in order, with their sizes and times
  const prefix = 'AWSLogs/111111111111/vpcflowlogs/us-east-1/';
  const listed = await listAll(source, prefix, { startAfter: `${prefix}2025/06/01/o0009.log` });
  assert.deepEqual(listed, await listAll(inProcess, prefix, { startAfter: `${prefix}2025/06/01/o0009.log` }));
  assert.equal(listed.length, keys.length - 10);
  assert.ok(listed.length > 2 * LIST_CHUNK);
  assert.ok(listed[0]!.lastModified instanceof Date && listed[0]!.size === small.length);
  assert.deepEqual(await source.listPrefixes('AWSLogs/111111111111/vpcflowlogs/'), await inProcess.listPrefixes('AWSLogs/111111111111/vpcflowlogs/'));
  // a listing given up early tells the thread to stop; the thread goes on serving
  for await (const _ of source.list(prefix)) break;
  await source.delete(keys[0]!);
  assert.equal((await listAll(source, prefix)).length, keys.length - 1, 'the deleted key is gone');
  // an error keeps its class and code across the thread boundary
  const denied = pool.source(bucketConfig({ type: 'vpcflow', name: 'no-such-bucket-here', serviceEndpoint: s3.endpoint, accessKey: 'S3RVER', secretKey: 'S3RVER' }));
  await assert.rejects(listAll(denied, 'AWSLogs/'), (e: unknown) => e instanceof S3AccessError && e.code === 'TLD_ERR_S3_NO_SUCH_BUCKET');
  await assert.rejects(denied.listPrefixes('AWSLogs/'), (e: unknown) => e instanceof S3AccessError && e.code === 'TLD_ERR_S3_NO_SUCH_BUCKET');
  await assert.rejects(source.get('x'), /read with FetchPool.read/);
  inProcess.close?.();
});

test('source(): a listing on a fetch thread that dies fails as transient', async () => {
  const one = new FetchPool(1);
  try {
    const it = one.source(cfg()).list('AWSLogs/')[Symbol.asyncIterator]();
    await it.next();
    await one.workers[0]!.terminate();
    await assert.rejects(async () => {
      while (!(await it.next()).done);
    }, (e: unknown) => e instanceof TransientReadError && /fetch thread reading it stopped/.test(e.message));
  } finally {
    await one.close();
  }
});

test("a listing's first page reaches the collector while its next page is still being listed", async () => {
  const prefix = 'AWSLogs/111111111111/vpcflowlogs/ap-south-1/2025/06/01/';
  const keys = Array.from({ length: FIRST_PAGE_KEYS + 50 }, (_, i) => `${prefix}p${String(i).padStart(4, '0')}.log`);
  for (let i = 0; i < keys.length; i += 40) await Promise.all(keys.slice(i, i + 40).map((k) => s3.putObject(BUCKET, k, small)));
  // in front of the S3 server: holds every request for a page after the first until released
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let held = 0;
  const target = new URL(s3.endpoint);
  const front = createServer((req, res) => {
    const forward = () => {
      const up = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      req.pipe(up);
    };
    if (req.url?.includes('continuation-token=')) {
      held++;
      void released.then(forward);
    } else forward();
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  try {
    const endpoint = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
    const source = pool.source(bucketConfig({ type: 'vpcflow', name: BUCKET, serviceEndpoint: endpoint, accessKey: 'S3RVER', secretKey: 'S3RVER' }));
    const it = source.list(prefix)[Symbol.asyncIterator]();
    const first: string[] = [];
    const firstPage = (async () => {
      for (let i = 0; i < FIRST_PAGE_KEYS; i++) first.push((await it.next()).value!.key);
    })();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`only ${first.length} keys of the first page arrived in 10 s`)), 10_000)));
    await Promise.race([firstPage, late]).finally(() => clearTimeout(timer));
    // the collector holds the first page's keys while the next page waits at the front
    assert.deepEqual(first, keys.slice(0, FIRST_PAGE_KEYS));
    assert.equal(held, 1, 'the next page was asked for and is held');
    release();
    const rest: string[] = [];
    for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value.key);
    assert.deepEqual(rest, keys.slice(FIRST_PAGE_KEYS));
  } finally {
    release();
    await new Promise<void>((r) => front.close(() => r()));
  }
});
