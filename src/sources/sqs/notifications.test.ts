import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeNotificationKey, encodeNotificationKey, parseNotification } from './notifications.js';
import { sourceOfKey } from './source-type.js';

const VPC_KEY = 'AWSLogs/111111111111/vpcflowlogs/us-east-1/2025/06/26/111111111111_vpcflowlogs_us-east-1_fl-0abc_20250626T1920Z_h.log.gz';
const s3Record = (key: string, eventName = 'ObjectCreated:Put') => ({ eventVersion: '2.1', eventSource: 'aws:s3', awsRegion: 'us-east-1', eventTime: '2025-06-26T19:21:00.000Z', eventName, s3: { bucket: { name: 'logs' }, object: { key, size: 42 } } });

test('each notification shape gives the announced objects', () => {
  const direct = JSON.stringify({ Records: [s3Record(VPC_KEY)] });
  const expected = { kind: 'objects', objects: [{ bucket: 'logs', key: VPC_KEY, eventName: 'ObjectCreated:Put', size: 42, eventTime: '2025-06-26T19:21:00.000Z' }], ignored: 0 };
  assert.deepEqual(parseNotification(direct), expected, 'S3 → SQS');
  assert.deepEqual(parseNotification(direct), expected, 'S3 → SNS → SQS with raw message delivery is the same body');
  const wrapped = JSON.stringify({ Type: 'Notification', MessageId: 'm', TopicArn: 'arn:aws:sns:us-east-1:111111111111:t', Subject: 'Amazon S3 Notification', Message: direct, Timestamp: '2025-06-26T19:21:01.000Z' });
  assert.deepEqual(parseNotification(wrapped), expected, 'S3 → SNS → SQS wrapped');
  const bridge = JSON.stringify({ version: '0', id: 'e', 'detail-type': 'Object Created', source: 'aws.s3', account: '111111111111', time: '2025-06-26T19:21:00Z', region: 'us-east-1', resources: ['arn:aws:s3:::logs'], detail: { version: '0', bucket: { name: 'logs' }, object: { key: VPC_KEY, size: 42, etag: 'x' }, reason: 'PutObject' } });
  assert.deepEqual(parseNotification(bridge), { kind: 'objects', objects: [{ bucket: 'logs', key: VPC_KEY, eventName: 'Object Created', size: 42, eventTime: '2025-06-26T19:21:00Z' }], ignored: 0 }, 'S3 → EventBridge → SQS');
});

test('s3:TestEvent is recognised (directly and through SNS); removals are ignored; several records give several objects', () => {
  const testEvent = JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2025-06-26T19:21:00.000Z', Bucket: 'logs', RequestId: 'r', HostId: 'h' });
  assert.deepEqual(parseNotification(testEvent), { kind: 'test' });
  assert.deepEqual(parseNotification(JSON.stringify({ Type: 'Notification', Message: testEvent })), { kind: 'test' });
  const many = parseNotification(JSON.stringify({ Records: [s3Record('a/1'), s3Record('a/2', 'ObjectRemoved:Delete'), s3Record('a/3', 'ObjectCreated:CompleteMultipartUpload')] }));
  assert.equal(many.kind, 'objects');
  assert.deepEqual(many.kind === 'objects' && [many.objects.map((o) => o.key), many.ignored], [['a/1', 'a/3'], 1]);
  assert.deepEqual(parseNotification(JSON.stringify({ source: 'aws.s3', 'detail-type': 'Object Deleted', detail: {} })), { kind: 'objects', objects: [], ignored: 1 });
});

test('keys are URL-decoded: + is a space, %2B a plus, unicode percent-escaped; encoding round-trips', () => {
  const keyOf = (raw: string) => {
    const n = parseNotification(JSON.stringify({ Records: [s3Record(raw)] }));
    return n.kind === 'objects' ? n.objects[0]?.key : n.kind;
  };
  assert.equal(keyOf('logs/a+b%2Bc.log'), 'logs/a b+c.log');
  assert.equal(keyOf('logs/%C3%A9t%C3%A9/%E6%97%A5.log'), 'logs/été/日.log');
  assert.equal(keyOf('logs/%ZZ'), 'invalid');
  for (const key of ['a b+c/été/日 (1).log', VPC_KEY, 'x=1/y;z?#&.gz']) assert.equal(decodeNotificationKey(encodeNotificationKey(key)), key);
  assert.equal(encodeNotificationKey('a b+c/d'), 'a+b%2Bc/d');
});

test('anything else is invalid with a reason, never thrown', () => {
  for (const body of ['not json', '[]', '{}', JSON.stringify({ Records: [{ eventSource: 'aws:sqs' }] }), JSON.stringify({ Records: [s3Record('')] }), JSON.stringify({ Type: 'Notification', Message: '{' }), JSON.stringify({ Type: 'Notification', Message: JSON.stringify({ Type: 'Notification', Message: '{}' }) })]) {
    const n = parseNotification(body);
    assert.equal(n.kind, 'invalid', body);
    assert.ok(n.kind === 'invalid' && n.reason.length > 5);
  }
});

test('the source type comes from the key layout, or the longest matching key_prefix; unknown layouts are undefined', () => {
  assert.deepEqual(sourceOfKey(VPC_KEY, [])?.type, 'vpcflow');
  assert.deepEqual(sourceOfKey(VPC_KEY, [])?.info, { account: '111111111111', region: 'us-east-1', day: '2025-06-26', flowLogId: 'fl-0abc' });
  assert.equal(sourceOfKey('trail/AWSLogs/o-abcdefghij/222222222222/CloudTrail/eu-west-1/2025/01/02/x.json.gz', [])?.type, 'cloudtrail');
  assert.equal(sourceOfKey('AWSLogs/222222222222/GuardDuty/eu-west-1/2025/01/02/u.jsonl.gz', [])?.type, 'guardduty');
  assert.equal(sourceOfKey('AWSLogs/aws-account-id=222222222222/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2025/month=01/day=02/f.log.gz', [])?.type, 'vpcflow');
  assert.equal(sourceOfKey('firehose/2025/01/02/03/stream-1-2025-01-02-03-00-00-uuid.gz', []), undefined);
  assert.equal(sourceOfKey('AWSLogs/222222222222/Config/eu-west-1/2025/01/02/c.json.gz', []), undefined);
  const overrides = [{ prefix: 'firehose/app/', type: 'custom' as const }, { prefix: 'firehose/', type: 'guardduty' as const }];
  const gd = sourceOfKey('firehose/2025/01/02/03/stream-1.gz', overrides);
  assert.deepEqual([gd?.type, gd?.info?.day], ['guardduty', '2025-01-02']);
  assert.equal(sourceOfKey('firehose/app/2025/01/02/03/x.gz', overrides)?.type, 'custom');
});
