/**
 * CloudTrail decode throughput on one core: `node --import tsx src/decoders/cloudtrail/decode.bench.ts [records]`.
 * Builds a `{"Records":[…]}` file (100k records of about 520 bytes unless given), feeds it in 256 KiB chunks
 * as the collector does after gunzip, and prints records/s (best of a few rounds, after warm-up).
 * Memory under a heap limit: tests/decoders/decode-memory.ts.
 */
import { CloudTrailDecoder } from './decode.js';

function generate(records: number): Buffer {
  const out: string[] = [];
  for (let i = 0; i < records; i++) {
    const user = i % 97 === 0 ? 'jos\u00e9' : `user${i % 1000}`;
    out.push(
      `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDA${i}","arn":"arn:aws:iam::111122223333:user/${user}",` +
        `"accountId":"111122223333","userName":"${user}"},"eventTime":"2024-05-03T10:00:${String(i % 60).padStart(2, '0')}Z",` +
        `"eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1","sourceIPAddress":"198.51.${(i >> 8) & 255}.${i & 255}",` +
        `"userAgent":"aws-cli/2.15.0","requestParameters":{"instancesSet":{"items":[{"instanceId":"i-${i}"}]}},"responseElements":null,"eventID":"e-${i}","readOnly":true,"eventType":"AwsApiCall"}`,
    );
  }
  return Buffer.from(`{"Records":[${out.join(',')}]}`);
}

function run(input: Buffer): number {
  const decoder = new CloudTrailDecoder({ bucketType: 'cloudtrail', logInfo: { aws_account_alias: '', log_file: 'bench.json', s3bucket: 'bench' }, accountId: '111122223333' });
  const chunk = 256 * 1024;
  let records = 0;
  for (let at = 0; at < input.length; at += chunk) records += decoder.push(input.subarray(at, at + chunk)).length;
  return records + decoder.end().length;
}

const count = Number(process.argv[2] ?? 100_000);
const input = generate(count);
for (let i = 0; i < 2; i++) run(input); // warm-up
let best = Infinity;
let records = 0;
for (let round = 0; round < 5; round++) {
  const t0 = process.hrtime.bigint();
  records = run(input);
  best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
}
process.stdout.write(
  `cloudtrail decode: ${records} records, ${(input.length / 1e6).toFixed(1)} MB in ${(best * 1000).toFixed(1)} ms ` +
    `= ${Math.round(records / best).toLocaleString('en-US')} records/s (${(input.length / 1e6 / best).toFixed(0)} MB/s)\n`,
);
