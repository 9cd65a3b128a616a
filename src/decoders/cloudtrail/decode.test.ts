import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AwsEvent } from '../../shared/events.js';
import type { DecodeContext } from '../decoder.js';
import { ObjectDecodeError } from '../errors.js';
import { CloudTrailDecoder } from './decode.js';

const logInfo = { aws_account_alias: 'prod', log_file: 'k', s3bucket: 'b' };
const f = (e: AwsEvent | undefined) => (e?.aws ?? {}) as Record<string, any>;

function run(doc: unknown, extra: Partial<DecodeContext> = {}): AwsEvent[] {
  const d = new CloudTrailDecoder({ bucketType: 'cloudtrail', logInfo, accountId: '111122223333', ...extra });
  const bytes = Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc));
  const out: AwsEvent[] = [];
  for (let at = 0; at < bytes.length; at += 10) out.push(...d.push(bytes.subarray(at, at + 10)));
  return [...out, ...d.end()];
}
const code = (doc: unknown) => {
  try {
    run(doc);
  } catch (e) {
    assert.ok(e instanceof ObjectDecodeError);
    return e.code;
  }
  return 'none';
};

const record = (extra: Record<string, unknown> = {}) => ({ eventVersion: '1.08', eventTime: '2024-05-03T10:01:02Z', eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances', sourceIPAddress: '203.0.113.9', ...extra });

test('Wazuh reshaping: source, account from the key (last, overriding), source_ip_address, nulls removed, lists unwrapped', () => {
  const [e] = run({ Records: [record({ aws_account_id: 'forged', responseElements: null, resources: [{ ARN: 'arn:x', type: 'AWS::EC2::Instance' }], tags: ['a', 'b'] })] });
  assert.deepEqual(Object.keys(f(e)), ['log_info', 'eventVersion', 'eventTime', 'eventSource', 'eventName', 'sourceIPAddress', 'resources', 'tags', 'source', 'aws_account_id', 'source_ip_address']);
  assert.equal(f(e).aws_account_id, '111122223333');
  assert.equal(f(e).source, 'cloudtrail');
  assert.equal(f(e).source_ip_address, '203.0.113.9');
  assert.deepEqual(f(e).resources, { ARN: 'arn:x', type: 'AWS::EC2::Instance' });
  assert.deepEqual(f(e).tags, { value: ['a', 'b'] });
  const [svc] = run({ Records: [record({ sourceIPAddress: 'ec2.amazonaws.com' })] });
  assert.equal(Object.hasOwn(svc!.aws, 'source_ip_address'), false);
});

test('non-object requestParameters/responseElements/additionalEventData become {"string": JSON text}; disableApiTermination wrapped', () => {
  const [e] = run({ Records: [record({ requestParameters: ['a', 'b'], responseElements: true, additionalEventData: 'x' })] });
  assert.deepEqual(f(e).requestParameters, { string: '["a","b"]' });
  assert.deepEqual(f(e).responseElements, { string: 'true' });
  assert.deepEqual(f(e).additionalEventData, { string: '"x"' });
  const [one] = run({ Records: [record({ requestParameters: ['only'] })] });
  assert.deepEqual(one && f(one).requestParameters, { string: '"only"' }, 'a single-element list is unwrapped first');
  const [d] = run({ Records: [record({ requestParameters: { instanceId: 'i-1', disableApiTermination: false } })] });
  assert.deepEqual(f(d).requestParameters, { instanceId: 'i-1', disableApiTermination: { value: false } });
  const [kept] = run({ Records: [record({ requestParameters: { disableApiTermination: { value: true } } })] });
  assert.deepEqual(f(kept).requestParameters.disableApiTermination, { value: true });
});

test('containers: Records, a top-level array, an EventBridge envelope; empty Records, digests and Insights yield nothing', () => {
  assert.equal(run({ Records: [record(), record()] }).length, 2);
  assert.equal(run([record(), record(), record()]).length, 3);
  assert.equal(f(run({ version: '0', 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.ec2', detail: record() })[0]).eventName, 'RunInstances');
  assert.deepEqual(run({ Records: [] }), []);
  assert.deepEqual(run({ awsAccountId: '1', digestStartTime: '2024-01-01T00:00:00Z', digestS3Object: 'x', logFiles: [] }), []);
  assert.deepEqual(run({ Records: [record({ eventCategory: 'Insight' }), { eventVersion: '1.07', insightDetails: { state: 'Start' } }] }), []);
});

test('bad files: invalid JSON, empty, not CloudTrail; a non-object record is reported and skipped', () => {
  assert.equal(code('{"Records": [ {"eventName": "x"} '), 'TLD_ERR_DECODE_JSON');
  assert.equal(code('   '), 'TLD_ERR_DECODE_EMPTY_OBJECT');
  assert.equal(code({ hello: 'world' }), 'TLD_ERR_DECODE_FORMAT');
  assert.equal(code('"just a string"'), 'TLD_ERR_DECODE_FORMAT');
  const errors: string[] = [];
  const events = run({ Records: [42, record()] }, { onRecordError: (l, m) => errors.push(`${l}: ${m}`) });
  assert.equal(events.length, 1);
  assert.deepEqual(errors, ['1: record 1 (from byte 12) is not a JSON object; record skipped']);
});

test('discard_regex on the raw record: dotted paths, arrays take the next segment only, leaf arrays, non-strings never match', () => {
  const recs = {
    Records: [
      record({ eventSource: 'sts.amazonaws.com' }),
      record({ userIdentity: { sessionContext: { sessionIssuer: { userName: 'ci-bot' } } } }),
      record({ resources: [{ type: 'AWS::S3::Bucket' }, { type: 'AWS::IAM::Role' }] }),
      record({ readOnly: true, eventName: 'GetObject' }),
    ],
  };
  const names = (discard: { field: string; regex: string }) => run(recs, { discard }).map((e) => f(e).eventSource + '/' + f(e).eventName);
  assert.equal(names({ field: 'eventSource', regex: '.*sts' }).length, 3);
  assert.equal(names({ field: 'userIdentity.sessionContext.sessionIssuer.userName', regex: 'ci-' }).length, 3);
  assert.equal(names({ field: 'resources.type', regex: 'AWS::IAM' }).length, 3, 'any element of an array');
  assert.equal(names({ field: 'resources.type.x', regex: 'AWS::IAM' }).length, 3, "Wazuh drops the path's later segments at an array");
  assert.equal(names({ field: 'readOnly', regex: 'True|true' }).length, 4, 'booleans are never matched (Python TypeError)');
  assert.equal(names({ field: 'source', regex: 'cloudtrail' }).length, 0, 'the raw record carries source');
});

const ctx = (extra: Partial<DecodeContext> = {}): DecodeContext => ({ bucketType: 'cloudtrail', logInfo, accountId: '111122223333', ...extra });
const names = (events: AwsEvent[]) => events.map((e) => f(e).eventName);

test('streaming: a push that completes a record returns its event at once (the file is never held whole)', () => {
  const d = new CloudTrailDecoder(ctx());
  assert.deepEqual(names(d.push(Buffer.from(`{"Records":[${JSON.stringify(record({ eventName: 'A' }))},{"eventName":`))), ['A']);
  assert.deepEqual(names(d.push(Buffer.from(`"B","eventSource":"s3.amazonaws.com"}]}`))), ['B']);
  assert.deepEqual(d.end(), []);
});

test('a malformed record among good ones is reported with its number, byte offset and cause, and skipped; the others are kept', () => {
  const a = JSON.stringify(record({ eventName: 'A' }));
  const bad = '{"eventName": "Bad", "oops"}';
  const text = `{"Records":[${a},${bad},${JSON.stringify(record({ eventName: 'C' }))}]}`;
  const errors: { line: number; message: string; info: unknown }[] = [];
  const d = new CloudTrailDecoder(ctx({ onRecordError: (line, message, info) => errors.push({ line, message, info }) }));
  const events = [...d.push(Buffer.from(text)), ...d.end()];
  assert.deepEqual(names(events), ['A', 'C']);
  const at = text.indexOf(bad);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, new RegExp(`^record 2 \\(from byte ${at}\\) is not valid JSON: .+; record skipped$`));
  assert.equal(errors[0]!.line, 1);
  assert.deepEqual({ ...(errors[0]!.info as object), cause: undefined }, { record: 2, offset: at, cause: undefined });
  // without a handler nothing is dropped silently: the object fails after the records before the bad one
  const strict = new CloudTrailDecoder(ctx());
  assert.deepEqual(names(strict.push(Buffer.from(text))), ['A']);
  assert.throws(() => strict.end(), (e: unknown) => e instanceof ObjectDecodeError && e.code === 'TLD_ERR_DECODE_JSON' && e.offset === at);
});

test('a record larger than 4 MiB is reported and skipped without being held; the records after it are read', () => {
  const huge = JSON.stringify(record({ eventName: 'Huge', requestParameters: { blob: 'x'.repeat(5 * 1024 * 1024) } }));
  const text = Buffer.from(`{"Records":[${JSON.stringify(record({ eventName: 'A' }))},${huge},${JSON.stringify(record({ eventName: 'C' }))}]}`);
  const errors: string[] = [];
  const d = new CloudTrailDecoder(ctx({ onRecordError: (l, m) => errors.push(`${l}: ${m}`) }));
  const events: AwsEvent[] = [];
  for (let at = 0; at < text.length; at += 256 * 1024) events.push(...d.push(text.subarray(at, at + 256 * 1024)));
  events.push(...d.end());
  assert.deepEqual(names(events), ['A', 'C']);
  assert.deepEqual(errors, [`1: record 2 (from byte ${text.indexOf('{"eventVersion"', 20)}) is larger than ${4 * 1024 * 1024} bytes; record skipped`]);
});

test('"Records" after other keys, pretty-printed with CRLF, fed a byte at a time with multi-byte characters split', () => {
  const doc = { trail: { name: 'a "}{" ]' }, Records: [record({ eventName: 'A', userAgent: 'José 日本 😀 \\"' }), record({ eventName: 'B' })], more: [1, { Records: [] }] };
  const text = JSON.stringify(doc, null, 2).replaceAll('\n', '\r\n');
  const whole = run(text);
  assert.deepEqual(names(whole), ['A', 'B']);
  assert.equal(f(whole[0]).userAgent, 'José 日本 😀 \\"');
  const d = new CloudTrailDecoder(ctx());
  const bytes = Buffer.from(text);
  const events: AwsEvent[] = [];
  for (let i = 0; i < bytes.length; i++) events.push(...d.push(bytes.subarray(i, i + 1)));
  assert.deepEqual([...events, ...d.end()], whole);
});

test('a truncated file: the records before the cut are emitted, then an error naming where it ends', () => {
  const d = new CloudTrailDecoder(ctx());
  const text = `{"Records":[${JSON.stringify(record({ eventName: 'A' }))},{"eventName":"B"`;
  assert.deepEqual(names(d.push(Buffer.from(text))), ['A']);
  assert.throws(() => d.end(), (e: unknown) => e instanceof ObjectDecodeError && e.code === 'TLD_ERR_DECODE_JSON' && /ends at byte \d+ inside record 2/.test(e.message));
});
