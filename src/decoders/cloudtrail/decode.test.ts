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
