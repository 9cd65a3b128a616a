import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import type { AwsEvent } from '../../shared/events.js';
import { decodeBuffer } from '../index.js';

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
