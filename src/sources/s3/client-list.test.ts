/**
 * `list` of the S3 source against S3 for real: the AWS SDK over HTTP to s3rver (tests/helpers/s3-server.ts),
 * through a small forwarding front that records every ListObjectsV2 request (its `max-keys`, its continuation
 * token) and can answer one of them with a failure, or hold it. Shows the page sizes (a short first page, then
 * `pageSize`), that the next page is asked for while the current one is still being read (one page ahead), and
 * that a failed page asked ahead is thrown where the iteration reaches it, or dropped silently when it never does.
 */
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startS3Server, type TestS3Server } from '../../../tests/helpers/s3-server.js';
import { bucketConfig } from '../../../tests/helpers/collector.js';
import { createS3Source, listRequests, FIRST_PAGE_KEYS, type ClientOptions, type ListedObject, type ObjectSource } from './client.js';
import { S3AccessError } from './errors.js';

/** What the front does with a ListObjectsV2 request: forward it, answer with an S3 error, or close the connection. */
type Answer = 'forward' | 'reset' | { status: number; code: string };

interface ListFront {
  endpoint: string;
  /** query parameters of every ListObjectsV2 request that reached the front, in order */
  lists: URLSearchParams[];
  /** statuses answered to ListObjectsV2 requests, in the order they were answered (0: connection closed) */
  answered: number[];
  /** responses the client went away from before they were written (an aborted request) */
  abandoned: number;
  /** decides the answer of the n-th (0-based) ListObjectsV2 request; it may wait (the request is held meanwhile) */
  answer: (n: number) => Answer | Promise<Answer>;
  reset(): void;
  close(): Promise<void>;
}

async function startListFront(target: string): Promise<ListFront> {
  const t = new URL(target);
  const front: Omit<ListFront, 'endpoint' | 'close'> = {
    lists: [],
    answered: [],
    abandoned: 0,
    answer: () => 'forward',
    reset() {
      this.lists = [];
      this.answered = [];
      this.abandoned = 0;
      this.answer = () => 'forward';
    },
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://front');
    const isList = req.method === 'GET' && url.searchParams.get('list-type') === '2';
    const n = isList ? front.lists.push(url.searchParams) - 1 : -1;
    res.on('close', () => {
      if (!res.writableEnded) front.abandoned++;
    });
    void Promise.resolve(isList ? front.answer(n) : 'forward').then((a) => {
      if (a === 'reset') {
        if (isList) front.answered.push(0);
        req.socket.destroy();
        return;
      }
      if (a !== 'forward') {
        if (isList) front.answered.push(a.status);
        res.writeHead(a.status, { 'content-type': 'application/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${a.code}</Code><Message>injected by the test</Message><RequestId>TEST</RequestId></Error>`);
        return;
      }
      const up = httpRequest({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: { ...req.headers, host: t.host } }, (r) => {
        if (isList) front.answered.push(r.statusCode ?? 0);
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(front, {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

const B = 'list-pages';
const key = (folder: string, i: number) => `${folder}k${String(i).padStart(5, '0')}.log`;
const MANY = Array.from({ length: 250 }, (_, i) => key('many/', i));
const FEW = Array.from({ length: 7 }, (_, i) => key('few/', i));

let s3: TestS3Server;
let front: ListFront;
const sources: ObjectSource[] = [];

before(async () => {
  s3 = await startS3Server();
  front = await startListFront(s3.endpoint);
  await s3.createBucket(B);
  const all = [...MANY, ...FEW, 'other/k00000.log', 'manyx/k00000.log'];
  for (let i = 0; i < all.length; i += 25) await Promise.all(all.slice(i, i + 25).map((k) => s3.putObject(B, k, k)));
});
after(async () => {
  for (const s of sources) s.close?.();
  await front.close();
  await s3.close();
});
beforeEach(() => front.reset());

async function source(opts: ClientOptions = {}): Promise<ObjectSource> {
  const s = await createS3Source(bucketConfig({ type: 'vpcflow', name: B, serviceEndpoint: front.endpoint, accessKey: 'S3RVER', secretKey: 'S3RVER' }), opts);
  sources.push(s);
  return s;
}

async function keysOf(it: AsyncIterable<ListedObject>): Promise<string[]> {
  const out: string[] = [];
  for await (const o of it) out.push(o.key);
  return out;
}

async function waitFor(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

const maxKeys = () => front.lists.map((q) => q.get('max-keys'));

/** Collects the process's unhandled rejections while `fn` runs, and a little after. */
async function unhandledDuring(fn: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const onUnhandled = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    await fn();
    await sleep(100);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  return seen;
}

test('default page size: 250 keys complete and in order, the first request asks for 100 keys and the next for 1000', async () => {
  const s = await source();
  const listed: ListedObject[] = [];
  for await (const o of s.list('many/')) listed.push(o);
  assert.deepEqual(
    listed.map((o) => o.key),
    MANY,
  );
  assert.equal(listed[0]!.size, MANY[0]!.length);
  assert.ok(listed[0]!.lastModified instanceof Date);
  assert.equal(FIRST_PAGE_KEYS, 100);
  assert.deepEqual(maxKeys(), ['100', '1000']);
  assert.equal(front.lists[0]!.get('continuation-token'), null);
  assert.ok(front.lists[1]!.get('continuation-token'));
  assert.equal(front.lists.length, listRequests(250));

  // at the first page's edge: 100 keys are one request, 101 are two (S3 says "not truncated" when nothing is left)
  for (const [startAfter, n] of [
    [MANY[149]!, 100],
    [MANY[148]!, 101],
  ] as const) {
    front.reset();
    assert.deepEqual(await keysOf(s.list('many/', { startAfter })), MANY.slice(250 - n));
    assert.equal(front.lists.length, listRequests(n), `${n} keys`);
    assert.equal(front.lists[0]!.get('start-after'), startAfter);
    if (front.lists[1]) assert.equal(front.lists[1].get('start-after'), null, 'later pages go on from the continuation token');
  }
  assert.equal(listRequests(100), 1);
  assert.equal(listRequests(101), 2);
});

test('pageSize 2 and 150: every key in order across pages; the first page asks for min(100, pageSize)', async () => {
  const two = await source({ pageSize: 2 });
  assert.deepEqual(await keysOf(two.list('few/')), FEW);
  assert.deepEqual(maxKeys(), ['2', '2', '2', '2']);
  assert.equal(front.lists.length, listRequests(7, 2));

  front.reset();
  const s150 = await source({ pageSize: 150 });
  assert.deepEqual(await keysOf(s150.list('many/')), MANY);
  assert.deepEqual(maxKeys(), ['100', '150']);
  assert.equal(front.lists.length, listRequests(250, 150));

  // listPrefixes keeps asking for pageSize from its first page
  front.reset();
  assert.deepEqual(await s150.listPrefixes(''), ['few/', 'many/', 'manyx/', 'other/']);
  assert.deepEqual(maxKeys(), ['150']);
});

test('the next page is asked for while the consumer is still on the first key, and only one page ahead', async () => {
  const s = await source();
  const it = s.list('many/')[Symbol.asyncIterator]();
  const first = await it.next();
  assert.equal(first.value?.key, MANY[0]);
  await waitFor('the second page request', () => front.lists.length === 2 && front.answered.length === 2);
  assert.equal(front.lists[1]!.get('max-keys'), '1000');
  assert.ok(front.lists[1]!.get('continuation-token'));
  const rest: string[] = [];
  for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value.key);
  assert.deepEqual([first.value?.key, ...rest], MANY);
  assert.equal(front.lists.length, 2);

  // with 2-key pages: page 2 is asked for, page 3 is not until the consumer reaches page 2
  front.reset();
  const small = await source({ pageSize: 2 });
  const it2 = small.list('few/')[Symbol.asyncIterator]();
  assert.equal((await it2.next()).value?.key, FEW[0]);
  await waitFor('the second page request', () => front.answered.length === 2);
  await sleep(100);
  assert.equal(front.lists.length, 2, 'at most one page ahead');
  assert.equal((await it2.next()).value?.key, FEW[1]);
  assert.equal((await it2.next()).value?.key, FEW[2]);
  await waitFor('the third page request', () => front.lists.length === 3);
  await it2.return?.();
});

test('a page asked ahead that fails is thrown when the consumer reaches it, after every key of the page before', async () => {
  for (const fault of [{ status: 403, code: 'AccessDenied' }, 'reset'] as const) {
    front.reset();
    front.answer = (n) => (n === 1 ? fault : 'forward');
    const s = await source({ pageSize: 2, maxAttempts: 1 });
    const got: string[] = [];
    let thrown: unknown;
    const unhandled = await unhandledDuring(async () => {
      const it = s.list('few/')[Symbol.asyncIterator]();
      got.push((await it.next()).value!.key);
      // the failure happens while the consumer still holds the first page
      await waitFor('the failed second page', () => front.answered.length === 2);
      await sleep(50);
      got.push((await it.next()).value!.key);
      thrown = await it.next().then(
        () => undefined,
        (e: unknown) => e,
      );
    });
    const what = typeof fault === 'string' ? fault : fault.code;
    assert.deepEqual(got, FEW.slice(0, 2), what);
    assert.ok(thrown instanceof S3AccessError, `${what}: ${String(thrown)}`);
    assert.equal(thrown.code, fault === 'reset' ? 'TLD_ERR_S3_ENDPOINT' : 'TLD_ERR_S3_ACCESS_DENIED');
    if (fault !== 'reset') assert.match(thrown.message, /access denied to list s3:\/\/list-pages\/few\/: grant s3:ListBucket/);
    assert.deepEqual(unhandled, [], what);
    assert.equal(front.lists.length, 2, `${what}: nothing asked for after the failure`);
  }
});

test('a consumer that stops early leaves no unhandled rejection: the page asked ahead failed, or is still on its way', async () => {
  // the page asked ahead has already failed when the consumer breaks
  front.answer = (n) => (n === 1 ? { status: 403, code: 'AccessDenied' } : 'forward');
  const s = await source({ pageSize: 2, maxAttempts: 1 });
  const failed = await unhandledDuring(async () => {
    for await (const o of s.list('few/')) {
      assert.equal(o.key, FEW[0]);
      await waitFor('the failed second page', () => front.answered.length === 2);
      await sleep(50);
      break;
    }
  });
  assert.deepEqual(failed, []);

  // the consumer breaks while the page asked ahead is held by the server; the request is given up, and the
  // server closing the connection afterwards changes nothing
  front.reset();
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  front.answer = (n) => (n === 1 ? held.then(() => 'reset' as const) : 'forward');
  const inFlight = await unhandledDuring(async () => {
    for await (const o of s.list('few/')) {
      assert.equal(o.key, FEW[0]);
      await waitFor('the second page request', () => front.lists.length === 2);
      break;
    }
    await waitFor('the request asked ahead to be aborted', () => front.abandoned === 1);
    release();
    await waitFor('the held answer', () => front.answered.length === 2);
  });
  assert.deepEqual(inFlight, []);
  assert.equal(front.lists.length, 2);

  // a throw in the consumer's loop is an early stop too, and it is the consumer's error that comes out
  front.reset();
  front.answer = (n) => (n === 1 ? { status: 403, code: 'AccessDenied' } : 'forward');
  const thrown = await unhandledDuring(async () => {
    await assert.rejects(async () => {
      for await (const o of s.list('few/')) {
        await waitFor('the failed second page', () => front.answered.length === 2);
        throw new Error(`consumer gave up at ${o.key}`);
      }
    }, /consumer gave up at few\/k00000\.log/);
  });
  assert.deepEqual(thrown, []);
});
