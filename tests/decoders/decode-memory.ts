/**
 * Decodes one generated object the way the collector does (gzip stream → decompressStream →
 * createObjectDecoder → push/end) and prints one JSON line: records, record errors, MB, seconds, records/s,
 * peak heap used and peak RSS (sampled after every chunk).
 *
 *   node --max-old-space-size=256 --import tsx tests/decoders/decode-memory.ts cloudtrail 1000000
 *
 * Kinds: cloudtrail, guardduty-firehose, guardduty-native. Exits 2 with the error on an ObjectDecodeError;
 * a heap exhaustion kills the process (what bounded-memory.test.ts runs it under a heap limit to catch).
 */
import { createObjectDecoder, decompressStream, ObjectDecodeError } from '../../src/decoders/index.js';
import type { BucketType } from '../../src/shared/events.js';
import { syntheticGzip, type SyntheticKind } from './synthetic-objects.js';

const kind = (process.argv[2] ?? 'cloudtrail') as SyntheticKind;
const records = Number(process.argv[3] ?? 1_000_000);
const bucketType: BucketType = kind === 'cloudtrail' ? 'cloudtrail' : 'guardduty';

let errors = 0;
let firstError = '';
const decoder = createObjectDecoder({
  bucketType,
  logInfo: { aws_account_alias: '', log_file: `synthetic-${kind}.gz`, s3bucket: 'synthetic' },
  accountId: '111122223333',
  onRecordError: (line, message) => {
    if (errors++ === 0) firstError = `line ${line}: ${message}`;
  },
});
let events = 0;
let bytes = 0;
let peakHeap = 0;
let peakRss = 0;
const sample = () => {
  const m = process.memoryUsage();
  if (m.heapUsed > peakHeap) peakHeap = m.heapUsed;
  if (m.rss > peakRss) peakRss = m.rss;
};
const t0 = process.hrtime.bigint();
try {
  for await (const chunk of decompressStream(syntheticGzip(kind, records))) {
    bytes += chunk.length;
    events += decoder.push(chunk).length;
    sample();
  }
  events += decoder.end().length;
  sample();
} catch (e) {
  if (!(e instanceof ObjectDecodeError)) throw e;
  process.stdout.write(JSON.stringify({ kind, error: e.code, message: e.message, events }) + '\n');
  process.exit(2);
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const mb = (n: number) => Math.round(n / 1e5) / 10;
process.stdout.write(
  JSON.stringify({
    kind,
    records,
    events,
    recordErrors: errors,
    firstError,
    decompressedMB: mb(bytes),
    seconds: Math.round(seconds * 100) / 100,
    recordsPerSecond: Math.round(events / seconds),
    peakHeapMB: mb(peakHeap),
    peakRssMB: mb(peakRss),
  }) + '\n',
);
