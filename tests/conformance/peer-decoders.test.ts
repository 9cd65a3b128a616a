/**
 * Decoder conformance over every file in ../shared/aws-log-samples/peers/ (issue 14, item 8), read in place:
 * each file decodes (or is refused) as Wazuh's aws-s3 module would take it, and fields are compared with the
 * peers' published expected values where they publish them (Elastic's expected documents, transcribed in
 * peers/elastic/vpcflow/expected-transcribed.json; Wazuh's GuardDuty port-probe fixture).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { AwsEvent } from '../../src/shared/events.js';
import { decodeBuffer } from '../../src/decoders/index.js';
import { SHARED } from '../../testdata/shared.js';

const PEERS = `${SHARED}/aws-log-samples/peers/`;
type Json = Record<string, unknown>;

function decode(bytes: Buffer | string, bucketType: string, file = 'peer'): AwsEvent[] {
  return decodeBuffer(typeof bytes === 'string' ? Buffer.from(bytes) : bytes, { bucketType: bucketType as never, logInfo: { aws_account_alias: '', log_file: file, s3bucket: 'peer' } }) as AwsEvent[];
}

/**
 * Field order of Elastic's published headerless fixtures, by token count, from Elastic's own pipeline
 * (elastic/integrations packages/aws/data_stream/vpcflow/elasticsearch/ingest_pipeline/default.yml @e2f84578),
 * in AWS's field names: AWS writes this header as the first line of every flow-log file.
 */
const HEADERS: Record<number, string> = {
  29: 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path',
  17: 'version interface-id account-id vpc-id subnet-id instance-id srcaddr dstaddr srcport dstport protocol tcp-flags type pkt-srcaddr pkt-dstaddr action log-status',
};

/** What each peer file is, and how it decodes. */
const VPC_DECODED = ['elastic/vpcflow/test-extra-samples.log', 'elastic/vpcflow/test-tcp-flag-sequence.log', 'beats/vpcflow/accept-reject-traffic.log', 'beats/vpcflow/custom-nat-gateway.log', 'beats/vpcflow/ipv6.log', 'beats/vpcflow/no-data-skip-data.log', 'beats/vpcflow/tcp-flag-sequence-skip-data.log', 'wazuh/test_vpcflow.log'];
/** published without the header line AWS writes: refused as they are, decoded once the header is put back */
const VPC_HEADERLESS = ['elastic/vpcflow/test-v5-all-fields.log', 'beats/vpcflow/custom-transit-gateway.log'];
/** headerless formats Elastic's pipeline version above does not name (36, 39 and 40 fields): refused */
const VPC_UNKNOWN_FORMAT = ['elastic/vpcflow/test-tgw-samples.log', 'elastic/vpcflow/test-ecs-samples.log', 'elastic/vpcflow/test-v8-samples.log'];
/** not a flow-log file: a deliberately invalid one, and a CloudWatch `{"message": …}` wrapper */
const VPC_NOT_FLOW_LOGS = ['beats/vpcflow/bad.log', 'elastic/vpcflow/test-with-message-field.log'];
const OTHER = ['elastic/vpcflow/expected-transcribed.json', 'elastic/guardduty/test-guardduty.log', 'elastic/cloudtrail/test-console-login-json.log', 'elastic/cloudtrail/test-cloudtrail-digest-json.log', 'beats/cloudtrail/insight-json.log', 'wazuh/test_guardduty.json', 'panther/AWS.CloudTrail.json', 'panther/AWS.GuardDuty.json', 'panther/AWS.VPCFlow.json', 'PROVENANCE.md'];

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? allFiles(join(dir, n)) : [relative(PEERS, join(dir, n))]));
}

test('every peer file is covered by a case below', () => {
  const covered = new Set([...VPC_DECODED, ...VPC_HEADERLESS, ...VPC_UNKNOWN_FORMAT, ...VPC_NOT_FLOW_LOGS, ...OTHER]);
  assert.deepEqual(allFiles(PEERS).filter((f) => !covered.has(f)), []);
});

test('peer VPC files: with a header or in the default format they decode; without their header, or not flow logs, they are refused', () => {
  for (const f of VPC_DECODED) assert.ok(decode(readFileSync(PEERS + f), 'vpcflow', f).length > 0, f);
  for (const f of [...VPC_HEADERLESS, ...VPC_UNKNOWN_FORMAT, ...VPC_NOT_FLOW_LOGS]) assert.throws(() => decode(readFileSync(PEERS + f), 'vpcflow', f), /TLD_ERR_DECODE|header|format|field/i, f);
  for (const f of VPC_HEADERLESS) {
    const text = readFileSync(PEERS + f, 'utf8');
    const tokens = text.split('\n')[0]!.trim().split(/\s+/).length;
    assert.ok(decode(`${HEADERS[tokens]}\n${text}`, 'vpcflow', f).length > 0, f);
  }
});

/** Elastic's ECS field → our event's field under aws (Wazuh's names). */
const ECS: Record<string, string> = {
  'source.ip': 'srcaddr',
  'source.port': 'srcport',
  'destination.ip': 'dstaddr',
  'destination.port': 'dstport',
  'network.iana_number': 'protocol',
  'network.bytes': 'bytes',
  'network.packets': 'packets',
  'event.start': 'start',
  'event.end': 'end',
  'cloud.region': 'region',
  'cloud.availability_zone': 'az_id',
  'network.direction': 'flow_direction',
  'aws.vpcflow.pkt_src_service': 'pkt_src_aws_service',
  'aws.vpcflow.pkt_dst_service': 'pkt_dst_aws_service',
};

function ours(expectedKey: string): string | undefined {
  if (ECS[expectedKey]) return ECS[expectedKey];
  if (expectedKey.startsWith('aws.vpcflow.')) return expectedKey.slice('aws.vpcflow.'.length);
  return undefined;
}

test('peer VPC records: every field Elastic publishes an expected value for is what we decode', () => {
  const expected = JSON.parse(readFileSync(`${PEERS}elastic/vpcflow/expected-transcribed.json`, 'utf8')) as Record<string, Json[] | string>;
  let compared = 0;
  for (const [file, docs] of Object.entries(expected)) {
    if (typeof docs === 'string' || VPC_UNKNOWN_FORMAT.includes(`elastic/vpcflow/${file}`)) continue;
    const text = readFileSync(`${PEERS}elastic/vpcflow/${file}`, 'utf8');
    const tokens = text.split('\n')[0]!.trim().split(/\s+/).length;
    const headerless = VPC_HEADERLESS.includes(`elastic/vpcflow/${file}`);
    const events = decode(headerless ? `${HEADERS[tokens]}\n${text}` : text, 'vpcflow', file);
    for (const doc of docs) {
      const event = events[doc.i as number];
      assert.ok(event, `${file} record ${String(doc.i)}`);
      for (const [k, want] of Object.entries(doc)) {
        const key = ours(k);
        if (k === 'i' || key === undefined) continue;
        const got: unknown = (event.aws as Json)[key];
        const where = `${file} record ${String(doc.i)} ${k} → aws.${key}`;
        // Elastic leaves '-' (no value) only in cloud.*; we leave the field out
        if (want === '-') assert.equal(got, undefined, where);
        else if (k === 'event.start' || k === 'event.end') assert.equal(Date.parse(String(got)), Date.parse(String(want)), where);
        else assert.equal(String(got), String(want), where);
        compared++;
      }
    }
  }
  assert.ok(compared >= 80, `fields compared: ${compared}`);
});

test('peer GuardDuty: Elastic\'s findings decode one event each; a port probe of several details is one event per detail (Wazuh\'s fixture)', () => {
  const elastic = decode(readFileSync(`${PEERS}elastic/guardduty/test-guardduty.log`), 'guardduty');
  assert.equal(elastic.length, 5, 'five findings; {"findings":[]} gives none');
  for (const e of elastic) assert.equal(e.aws.source, 'guardduty');
  // wodles/aws/tests/test_guardduty.py: a finding whose portProbeDetails has two elements is sent twice, each
  // copy with one detail as an object
  const fixture = JSON.parse(readFileSync(`${PEERS}wazuh/test_guardduty.json`, 'utf8')) as { portProbeCase: Json };
  const finding = { schemaVersion: '2.0', accountId: '123456789012', region: 'us-east-1', id: 'f', type: 'Recon:EC2/PortProbeUnprotectedPort', severity: 2, ...fixture.portProbeCase, service: { serviceName: 'guardduty', ...(fixture.portProbeCase.service as Json) } };
  const split = decode(`${JSON.stringify(finding)}\n`, 'guardduty', 'AWSLogs/123456789012/GuardDuty/us-east-1/2024/01/01/x.jsonl.gz');
  assert.equal(split.length, 2);
  for (const e of split) {
    const details = (((e.aws.service as Json).action as Json).portProbeAction as Json).portProbeDetails as Json;
    assert.ok(!Array.isArray(details) && typeof details === 'object', 'one detail per event, as an object');
    assert.deepEqual(details.localPortDetails, { port: 'number', portName: 'string' });
  }
  const panther = (JSON.parse(readFileSync(`${PEERS}panther/AWS.GuardDuty.json`, 'utf8')) as { log: Json }[]).map((t) => Object.fromEntries(Object.entries(t.log).filter(([k]) => !k.startsWith('p_'))));
  assert.equal(decode(panther.map((f) => JSON.stringify(f)).join('\n'), 'guardduty').length, panther.length);
});

test('peer CloudTrail: every Panther record and Elastic\'s console logins decode to one event (source cloudtrail, source_ip_address from an IPv4 sourceIPAddress); a digest gives none', () => {
  const panther = (JSON.parse(readFileSync(`${PEERS}panther/AWS.CloudTrail.json`, 'utf8')) as { log: Json }[]).map((t) => Object.fromEntries(Object.entries(t.log).filter(([k]) => !k.startsWith('p_'))));
  const logins = readFileSync(`${PEERS}elastic/cloudtrail/test-console-login-json.log`, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Json);
  const records = [...panther, ...logins];
  const events = decode(JSON.stringify({ Records: records }), 'cloudtrail', 'AWSLogs/123456789012/CloudTrail/us-east-1/2024/01/01/x.json.gz');
  assert.equal(events.length, records.length);
  events.forEach((e, i) => {
    assert.equal(e.aws.source, 'cloudtrail');
    const ip = records[i]!.sourceIPAddress;
    // wazuh_integration.py reformat_msg: copied when it starts like an IPv4 address (4.5 step 4)
    if (typeof ip === 'string' && /^\d+\.\d+.\d+.\d+/.test(ip)) assert.equal(e.aws.source_ip_address, ip, String(records[i]!.eventName));
    else assert.equal(e.aws.source_ip_address, undefined, String(records[i]!.eventName));
  });
  // a digest file: no records, as Wazuh's module reads a file without a top-level Records key
  assert.deepEqual(decode(readFileSync(`${PEERS}elastic/cloudtrail/test-cloudtrail-digest-json.log`), 'cloudtrail'), []);
  // Beats' Insights fixture is one bare record (S3 holds {"Records": [...]}): refused with its cause, where
  // Wazuh's module would read no records (a deliberate difference: an unknown shape is not dropped silently);
  // as S3 holds it, an Insights record is skipped (Wazuh's cloudtrail type never lists CloudTrail-Insight/)
  assert.throws(() => decode(readFileSync(`${PEERS}beats/cloudtrail/insight-json.log`), 'cloudtrail'), /no "Records" array/);
  const insight = JSON.parse(readFileSync(`${PEERS}beats/cloudtrail/insight-json.log`, 'utf8')) as Json;
  assert.deepEqual(decode(JSON.stringify({ Records: [insight, logins[0]] }), 'cloudtrail').map((x) => x.aws.eventName), [logins[0]!.eventName]);
});
