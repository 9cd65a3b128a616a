/**
 * Large synthetic S3 objects generated on the fly as gzip streams, so tests can decode hundreds of MB
 * without committing or holding them: CloudTrail `{"Records":[…]}`, GuardDuty Firehose (`{…}{…}`) and
 * GuardDuty native export (JSON Lines). Records vary (ids, IPs, a non-ASCII user name, escaped quotes and
 * braces inside strings) so a scanner cannot get by on a fixed layout.
 */
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';

export type SyntheticKind = 'cloudtrail' | 'guardduty-firehose' | 'guardduty-native';

const ACCOUNT = '111122223333';

/** One CloudTrail record of about 480 bytes (a 400k-record file is about 190 MB, 1M records 480 MB). */
export function cloudTrailRecord(i: number): string {
  const ip = `198.51.${(i >> 8) & 255}.${i & 255}`;
  const user = i % 97 === 0 ? 'jos\u00e9-\u65e5\u672c' : i % 89 === 0 ? 'a\\"}{\\\\' : `user${i % 1000}`;
  return (
    `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDA${i}","arn":"arn:aws:iam::${ACCOUNT}:user/${user}",` +
    `"accountId":"${ACCOUNT}","userName":"${user}"},"eventTime":"2024-05-03T10:${String((i / 60) % 60 | 0).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z",` +
    `"eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1","sourceIPAddress":"${ip}",` +
    `"userAgent":"aws-cli/2.15.0","requestParameters":null,"responseElements":null,"eventID":"e-${i}","readOnly":true,"eventType":"AwsApiCall"}`
  );
}

function guardDutyFinding(i: number): string {
  return (
    `{"schemaVersion":"2.0","accountId":"${ACCOUNT}","region":"us-east-1","id":"f${i}","type":"UnauthorizedAccess:EC2/SSHBruteForce",` +
    `"title":"SSH brute force \\"}{\\" #${i}","severity":2,"service":{"serviceName":"guardduty","count":${i},` +
    `"action":{"actionType":"NETWORK_CONNECTION","networkConnectionAction":{"remoteIpDetails":{"ipAddressV4":"198.51.${(i >> 8) & 255}.${i & 255}"}}}}}`
  );
}

function envelope(i: number): string {
  return `{"version":"0","id":"ev${i}","detail-type":"GuardDuty Finding","source":"aws.guardduty","account":"${ACCOUNT}","detail":${guardDutyFinding(i)}}`;
}

/** The uncompressed text of an object of `records` records, in pieces of about 1000 records. */
export function* syntheticText(kind: SyntheticKind, records: number): Generator<string> {
  const BATCH = 1000;
  if (kind === 'cloudtrail') yield '{"Records":[';
  for (let from = 0; from < records; from += BATCH) {
    const parts: string[] = [];
    for (let i = from; i < Math.min(records, from + BATCH); i++) {
      if (kind === 'cloudtrail') parts.push(i === 0 ? cloudTrailRecord(i) : ',' + cloudTrailRecord(i));
      else if (kind === 'guardduty-firehose') parts.push(envelope(i));
      else parts.push(guardDutyFinding(i) + '\n');
    }
    yield parts.join('');
  }
  if (kind === 'cloudtrail') yield ']}';
}

/** The object as a gzip byte stream (fast compression level; backpressure keeps it small in memory). */
export function syntheticGzip(kind: SyntheticKind, records: number): AsyncIterable<Buffer> {
  return Readable.from(syntheticText(kind, records)).pipe(createGzip({ level: 1 }));
}
