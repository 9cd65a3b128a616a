/**
 * VPC Flow Log parse throughput on one core: `node --import tsx src/decoders/vpcflow/decode.bench.ts [lines]`.
 * Generates a default-format (v2) file with a header (100k lines unless given), feeds it in 1 MiB chunks
 * as the collector does after decompression, and prints records/s (best of a few rounds, after warm-up).
 */
import { VpcFlowDecoder } from './decode.js';

function generate(lines: number): Buffer {
  const out: string[] = ['version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'];
  let start = 1750962159;
  for (let i = 0; i < lines; i++) {
    if (i % 50 === 0) start += 60;
    if (i % 500 === 499) {
      out.push(`2 123456789012 eni-0b86aa3a110035a1e - - - - - - - ${start} ${start + 31} - NODATA`);
      continue;
    }
    const src = `${(i * 7) % 223 + 1}.${(i * 13) % 256}.${(i * 17) % 256}.${(i * 29) % 254 + 1}`;
    const action = i % 3 === 0 ? 'ACCEPT' : 'REJECT';
    out.push(`2 123456789012 eni-0b86aa3a110035a1e ${src} 10.0.1.208 ${(i * 31) % 65535} ${(i * 11) % 1024} 6 ${i % 9 + 1} ${40 + (i % 1400)} ${start} ${start + 19} ${action} OK`);
  }
  return Buffer.from(out.join('\n') + '\n');
}

function run(input: Buffer): number {
  const decoder = new VpcFlowDecoder({ bucketType: 'vpcflow', logInfo: { aws_account_alias: '', log_file: 'bench.log', s3bucket: 'bench' }, accountId: '123456789012' });
  const chunk = 1 << 20;
  let records = 0;
  for (let at = 0; at < input.length; at += chunk) records += decoder.push(input.subarray(at, at + chunk)).length;
  return records + decoder.end().length;
}

const lines = Number(process.argv[2] ?? 100_000);
const input = generate(lines);
for (let i = 0; i < 3; i++) run(input); // warm-up
let best = Infinity;
let records = 0;
for (let round = 0; round < 7; round++) {
  const t0 = process.hrtime.bigint();
  records = run(input);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  best = Math.min(best, seconds);
}
process.stdout.write(
  `vpcflow parse: ${records} records, ${(input.length / 1e6).toFixed(1)} MB in ${(best * 1000).toFixed(1)} ms ` +
    `= ${Math.round(records / best).toLocaleString('en-US')} records/s (${(input.length / 1e6 / best).toFixed(0)} MB/s)\n`,
);
