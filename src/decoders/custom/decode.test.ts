import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import type { AwsEvent } from '../../shared/events.js';
import { createObjectDecoder, decodeBuffer } from '../index.js';

const logInfo = { aws_account_alias: '', log_file: 'k', s3bucket: 'b' };
const f = (e: AwsEvent | undefined) => (e?.aws ?? {}) as Record<string, any>;
const decode = (text: string) => decodeBuffer(gzipSync(text), { bucketType: 'custom', logInfo });

test('custom bucket: leading "{" (after blanks) means EventBridge envelopes of any source', () => {
  const env = (source: string, detail: unknown) => JSON.stringify({ 'detail-type': 'x', source, detail });
  const events = decode(`\n  ${env('aws.inspector2', { findingArn: 'arn:1', severity: 'HIGH' })}${env('aws.kms', { keyId: 'k' })}{"no":"detail"}`);
  assert.deepEqual(events.map((e) => [f(e).source, f(e).findingArn ?? f(e).keyId]), [['inspector2', 'arn:1'], ['kms', 'k']]);
});

test('custom bucket: anything else is read as VPC-flow-style lines (header-driven, source "vpc", no account id)', () => {
  const events = decode('version srcaddr dstaddr dstport action log-status\n2 10.0.0.1 10.0.0.2 443 ACCEPT OK\n');
  assert.equal(events.length, 1);
  const { log_info: _l, ...rest } = f(events[0]);
  assert.deepEqual(rest, { version: 2, srcaddr: '10.0.0.1', dstaddr: '10.0.0.2', dstport: 443, action: 'ACCEPT', log_status: 'OK', source: 'vpc' });
});

function decodeReporting(text: string | Buffer) {
  const errors: string[] = [];
  const events = decodeBuffer(gzipSync(text), { bucketType: 'custom', logInfo, onRecordError: (l, m) => errors.push(`${l}: ${m}`) });
  return { events, errors };
}

test('custom EventBridge object: an invalid record among good ones is reported with its number and cause; the others are kept', () => {
  const env = (source: string, detail: unknown) => JSON.stringify({ 'detail-type': 'x', source, detail });
  const text = `${env('aws.macie', { n: 1 })}\n{"detail": {"n": 2,}}\n${env('aws.macie', { n: 3 })}\n`;
  const { events, errors } = decodeReporting(text);
  assert.deepEqual(events.map((e) => f(e).n), [1, 3]);
  assert.equal(errors.length, 1);
  assert.match(errors[0] ?? '', new RegExp(`^2: object 2 \\(from byte ${text.indexOf('{"detail"')}\\) is not valid JSON: .+; object skipped$`));
});

test('custom line object: wrong field count, text in a number column and an over-long line are each reported and skipped', () => {
  const header = 'version srcaddr dstport action';
  const long = `2 ${'1'.repeat((1 << 20) + 5)} 443 ACCEPT`;
  const text = `${header}\n2 10.0.0.1 443 ACCEPT\n2 10.0.0.2 ACCEPT\n2 10.0.0.3 https ACCEPT\n${long}\n2 10.0.0.5 22 REJECT\n`;
  const { events, errors } = decodeReporting(text);
  assert.deepEqual(events.map((e) => f(e).srcaddr), ['10.0.0.1', '10.0.0.5']);
  assert.deepEqual(errors, [
    '3: 3 fields where the header has 4; line skipped',
    '4: field 3 (dstport) is "https", not a whole number; line skipped',
    `5: longer than ${1 << 20} characters; line skipped`,
  ]);
});

test('custom: the format is chosen on the first non-blank byte, however the leading blanks are chunked', () => {
  const d = createObjectDecoder({ bucketType: 'custom', logInfo });
  const events: AwsEvent[] = [];
  for (const piece of ['\ufeff', ' ', '\n', '\t', '{"detail":{"n":1},"source":"aws.x"}']) events.push(...d.push(Buffer.from(piece)));
  events.push(...d.end());
  assert.deepEqual(events.map((e) => [f(e).n, f(e).source]), [[1, 'x']]);
});

test('custom: an object that starts with more than 4 MiB of blanks is refused (not held), naming the cause', () => {
  const d = createObjectDecoder({ bucketType: 'custom', logInfo });
  const blanks = Buffer.alloc(1024 * 1024, 0x20);
  assert.throws(() => {
    for (let i = 0; i < 5; i++) d.push(blanks);
  }, /starts with more than 4194304 bytes of blank space/);
});
