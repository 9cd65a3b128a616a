/**
 * A lean S3-compatible server for the benchmark's large corpora (100 million records, a million objects), run in
 * its own process: it prints its endpoint and stops when stdin closes.
 *
 * s3rver, which the tests and the other benchmark rows use, keeps every object as files and walks all of them
 * for each listed page, so a million objects would take hours to upload and list. This server holds no objects:
 * keys are computed from their index in the order S3 lists them (one VPC flow log every 30 seconds, 2,880 a
 * day, from 2025-06-01), and each body is one of a few VPC objects generated at start. It answers what the
 * collector asks: ListObjectsV2 (prefix, delimiter, start-after, continuation token, max-keys), GetObject and
 * HeadObject, path-style, without checking signatures.
 *
 * Usage: node --import tsx bench/synthetic-s3.ts '{"objects":1000000,"lines":20}'
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { vpcObject } from './corpus.js';

const BUCKET = 'bench';
const spec = JSON.parse(process.argv[2] ?? '{}') as { objects?: number; lines?: number; bodies?: number; continuing?: boolean };
const N = Number(spec.objects ?? 1000);
const lines = Number(spec.lines ?? 20);
// `continuing`: every object its own body, each continuing the previous one's time (100 records a second), as
// consecutive deliveries of a flow log do (the corpus of the s3rver rows); else a few bodies repeated
const bodies = Array.from({ length: Number(spec.continuing ? N : (spec.bodies ?? 4)) }, (_, i) => vpcObject(lines, 'default', i + 1, 6, spec.continuing ? Math.floor((i * lines) / 100) : 0));
const etags = bodies.map((b) => `"${createHash('md5').update(b).digest('hex')}"`);

const PER_DAY = 2880;
const DAY0 = Date.UTC(2025, 5, 1);
const PREFIX = 'AWSLogs/111111111111/vpcflowlogs/us-east-1/';
const two = (n: number) => String(n).padStart(2, '0');
const timeOf = (i: number) => DAY0 + Math.floor(i / PER_DAY) * 86_400_000 + (i % PER_DAY) * 30_000;

/** Key i: keys sort as their indexes do (same day folder, then the time, then the zero-padded index). */
function keyOf(i: number): string {
  const d = new Date(timeOf(i));
  const day = `${d.getUTCFullYear()}/${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}`;
  const stamp = `${day.replaceAll('/', '')}T${two(d.getUTCHours())}${two(d.getUTCMinutes())}Z`;
  return `${PREFIX}${day}/111111111111_vpcflowlogs_us-east-1_fl-0aaaaaaaaaaaaaaaa_${stamp}_${String(i).padStart(8, '0')}.log.gz`;
}

/** The first index whose key is > s (`strict`) or >= s. */
function lowerBound(s: string, strict: boolean): number {
  let lo = 0;
  let hi = N;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = keyOf(mid);
    if (k < s || (strict && k === s)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const xml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function list(q: URLSearchParams, res: ServerResponse): void {
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const maxKeys = Math.min(1000, Number(q.get('max-keys') ?? 1000));
  const token = q.get('continuation-token');
  const after = token ? Buffer.from(token, 'base64url').toString() : (q.get('start-after') ?? '');
  let i = Math.max(lowerBound(prefix, false), after ? lowerBound(after, true) : 0);
  const contents: string[] = [];
  const prefixes: string[] = [];
  let last = '';
  while (i < N && contents.length + prefixes.length < maxKeys) {
    const key = keyOf(i);
    if (!key.startsWith(prefix)) break;
    const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    if (cut !== -1) {
      const common = key.slice(0, cut + delimiter.length);
      prefixes.push(`<CommonPrefixes><Prefix>${xml(common)}</Prefix></CommonPrefixes>`);
      last = `${common}\uffff`;
      i = lowerBound(last, true);
      continue;
    }
    const b = i % bodies.length;
    contents.push(`<Contents><Key>${xml(key)}</Key><LastModified>${new Date(timeOf(i) + 300_000).toISOString()}</LastModified><ETag>${xml(etags[b]!)}</ETag><Size>${bodies[b]!.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`);
    last = key;
    i++;
  }
  const truncated = i < N && keyOf(i).startsWith(prefix) && last !== '';
  res.writeHead(200, { 'content-type': 'application/xml' });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${BUCKET}</Name><Prefix>${xml(prefix)}</Prefix>` +
      `<KeyCount>${contents.length + prefixes.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>${delimiter ? `<Delimiter>${xml(delimiter)}</Delimiter>` : ''}<IsTruncated>${truncated}</IsTruncated>` +
      (truncated ? `<NextContinuationToken>${Buffer.from(last).toString('base64url')}</NextContinuationToken>` : '') +
      `${contents.join('')}${prefixes.join('')}</ListBucketResult>`,
  );
}

function fail(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${xml(message)}</Message></Error>`);
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const [bucket, ...rest] = url.pathname.slice(1).split('/');
  if (bucket !== BUCKET) return fail(res, 404, 'NoSuchBucket', `no bucket ${bucket}`);
  const key = decodeURIComponent(rest.join('/'));
  if (key === '' && req.method === 'GET' && url.searchParams.get('list-type') === '2') return list(url.searchParams, res);
  if (key === '' && req.method === 'HEAD') return void res.writeHead(200).end();
  if (req.method !== 'GET' && req.method !== 'HEAD') return fail(res, 501, 'NotImplemented', `${req.method} is not served by the benchmark's S3 server`);
  const i = lowerBound(key, false);
  if (i >= N || keyOf(i) !== key) return fail(res, 404, 'NoSuchKey', `no key ${key}`);
  const b = i % bodies.length;
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bodies[b]!.length, etag: etags[b], 'last-modified': new Date(timeOf(i) + 300_000).toUTCString() });
  res.end(req.method === 'GET' ? bodies[b] : undefined);
}

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => handle(req, res));
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}\n`);
});
process.stdin.resume();
process.stdin.on('end', () => server.close(() => process.exit(0)));
