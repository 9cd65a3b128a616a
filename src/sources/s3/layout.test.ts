/** Layout functions, table-tested on the key shapes AWS writes (and shapes that must not match). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BucketConfig } from '../../config/types.js';
import { awsLogsBase, classifyKey, dayMarker, dayOf, flowLogIdOf, parseKey, type KeyInfo } from './layout.js';

const bucket = (over: Partial<BucketConfig>): BucketConfig => ({
  type: 'cloudtrail', name: 'b', path: '', pathSuffix: '', awsAccountAlias: '', removeFromBucket: false, lookbackDays: 1, origin: { file: 'x', line: 1 }, ...over,
});

test('awsLogsBase: path, path_suffix and organization id', () => {
  const cases: [Partial<BucketConfig>, string][] = [
    [{}, 'AWSLogs/'],
    [{ path: 'trails/' }, 'trails/AWSLogs/'],
    [{ path: 'trails/', pathSuffix: 'sfx/' }, 'trails/AWSLogs/sfx/'],
    [{ awsOrganizationId: 'o-abcdef1234' }, 'AWSLogs/o-abcdef1234/'],
    [{ path: 'p/', pathSuffix: 's/', awsOrganizationId: 'o-abcdef1234' }, 'p/AWSLogs/s/o-abcdef1234/'],
  ];
  for (const [over, want] of cases) assert.equal(awsLogsBase(bucket(over)), want, JSON.stringify(over));
});

test('parseKey: account, region, day, flow log and organization from every layout', () => {
  const cases: [string, string, KeyInfo | undefined][] = [
    ['AWSLogs/123456789012/CloudTrail/us-east-1/2018/08/10/123456789012_CloudTrail_us-east-1_20180810T0115Z_DgrtLuV9YQvGGdN6.json.gz', '', { account: '123456789012', region: 'us-east-1', day: '2018-08-10' }],
    ['trails/AWSLogs/sfx/o-abcdef1234/111122223333/CloudTrail/eu-west-3/2024/02/29/x.json.gz', '', { account: '111122223333', region: 'eu-west-3', day: '2024-02-29', organization: 'o-abcdef1234' }],
    ['vpc/AWSLogs/149519528842/vpcflowlogs/us-west-2/2025/06/26/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1820Z_1ab9f65a.log.gz', '', { account: '149519528842', region: 'us-west-2', day: '2025-06-26', flowLogId: 'fl-04c78c53ca5809c08' }],
    ['AWSLogs/149519528842/vpcflowlogs/us-west-2/2025/06/26/18/149519528842_vpcflowlogs_us-west-2_fl-0a_20250626T1820Z_1a.log.gz', '', { account: '149519528842', region: 'us-west-2', day: '2025-06-26', flowLogId: 'fl-0a' }],
    ['AWSLogs/aws-account-id=149519528842/aws-service=vpcflowlogs/aws-region=us-west-2/year=2025/month=06/day=26/hour=18/149519528842_vpcflowlogs_us-west-2_fl-0b_20250626T1820Z_1a.log.gz', '', { account: '149519528842', region: 'us-west-2', day: '2025-06-26', flowLogId: 'fl-0b' }],
    ['AWSLogs/884003976652/GuardDuty/us-west-2/2019/10/24/8d116ece-1738-47d9-bd9c-172411e20b8f.jsonl.gz', '', { account: '884003976652', region: 'us-west-2', day: '2019-10-24' }],
    ['firehose/2019/10/24/21/firehose_guardduty-1-2019-10-24-21-35-12-36f675cc.gz', 'firehose/', { day: '2019-10-24' }],
    ['firehose/2019/13/24/21/x', 'firehose/', undefined],
    ['elsewhere/2019/10/24/21/x', 'firehose/', undefined],
    ['AWSLogs/12345/CloudTrail/us-east-1/2018/08/10/x', '', undefined],
  ];
  for (const [key, prefix, want] of cases) assert.deepEqual(parseKey(key, prefix), want, key);
});

test('dayOf and dayMarker: plain, hourly and Hive date folders right after the prefix', () => {
  assert.equal(dayOf('p/2024/01/02/x', 'p/'), '2024-01-02');
  assert.equal(dayOf('p/2024/01/02/03/x', 'p/'), '2024-01-02');
  assert.equal(dayOf('p/year=2024/month=01/day=02/hour=03/x', 'p/'), '2024-01-02');
  assert.equal(dayOf('p/AWSLogs/1/2024/01/02/x', 'p/'), undefined);
  assert.equal(dayOf('q/2024/01/02/x', 'p/'), undefined);
  assert.equal(dayOf('p/2024/00/02/x', 'p/'), undefined);
  assert.equal(dayMarker('2024-01-02'), '2024/01/02');
  assert.equal(dayMarker('2024-01-02', 'hive'), 'year=2024/month=01/day=02');
  // every key of the day sorts after its marker, and keys of the day before sort before it
  for (const style of ['plain', 'hive'] as const) {
    const marker = dayMarker('2024-01-02', style);
    assert.ok(`${marker}/` > marker && dayMarker('2024-01-01', style) + '/zzz' < marker);
  }
});

test('flowLogIdOf and classifyKey', () => {
  assert.equal(flowLogIdOf('a/123456789012_vpcflowlogs_us-east-1_fl-1234_20190415T0945Z_c23ab7.log.gz'), 'fl-1234');
  assert.equal(flowLogIdOf('a/some-other-name.log.gz'), '');
  assert.deepEqual(classifyKey('cloudtrail', 'AWSLogs/1/CloudTrail/us-east-1/2024/01/02/x.json.gz'), { read: true });
  assert.equal(classifyKey('cloudtrail', 'AWSLogs/111111111111/CloudTrail-Digest/us-east-1/2024/01/02/x.json.gz').read, false);
  assert.equal(classifyKey('cloudtrail', 'AWSLogs/111111111111/CloudTrail-Insight/us-east-1/2024/01/02/x.json.gz').read, false);
  assert.equal(classifyKey('guardduty', 'p/2024/01/02/03/').read, false);
  const parquet = classifyKey('vpcflow', 'AWSLogs/1/vpcflowlogs/us-east-1/2024/01/02/x.log.parquet');
  assert.ok(!parquet.read && parquet.error?.includes('not supported yet'));
});
