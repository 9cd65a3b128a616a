import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync, deflateSync } from 'node:zlib';
import { zipSync } from 'fflate';
import snappy from 'snappyjs';
import type { AwsEvent, BucketType } from '../shared/events.js';
import { decodeBuffer, detectCompression, ObjectDecodeError } from './index.js';
import { maskedCrc32c } from './compression/snappy.js';
/** the shared AWS log samples, copied into the repository (testdata/aws-log-samples/README.md) */
const SAMPLES_DIR = new URL('../../testdata/aws-log-samples/', import.meta.url).pathname;

const S = SAMPLES_DIR;
const read = (p: string) => readFileSync(S + p);
const logInfo = { aws_account_alias: '', log_file: 'k', s3bucket: 'b' };
const aws = (e: AwsEvent | undefined) => (e?.aws ?? {}) as Record<string, any>;

async function decode(bytes: Buffer, bucketType: BucketType, extra: Record<string, unknown> = {}) {
  const recordErrors: string[] = [];
  const events = await decodeBuffer(bytes, { bucketType, logInfo, onRecordError: (l, m) => recordErrors.push(`${l}: ${m}`), ...extra });
  return { events, recordErrors };
}
async function decodeError(bytes: Buffer, bucketType: BucketType): Promise<ObjectDecodeError> {
  try {
    await decodeBuffer(bytes, { bucketType, logInfo });
  } catch (e) {
    assert.ok(e instanceof ObjectDecodeError, String(e));
    return e;
  }
  assert.fail('expected an ObjectDecodeError');
}

test('VPC real sample (gzip): 101 records, header skipped, typed fields, Wazuh field names', async () => {
  const name = 'vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1820Z_1ab9f65a.log';
  const plain = await decode(read(name), 'vpcflow', { accountId: '149519528842' });
  const gz = await decode(read(name + '.gz'), 'vpcflow', { accountId: '149519528842' });
  assert.equal(plain.events.length, 101);
  assert.deepEqual(gz.events, plain.events);
  const first = aws(plain.events[0]);
  assert.deepEqual({ ...first, log_info: undefined }, {
    log_info: undefined, version: 2, account_id: '149519528842', interface_id: first.interface_id, srcaddr: first.srcaddr,
    dstaddr: first.dstaddr, srcport: first.srcport, dstport: first.dstport, protocol: first.protocol, packets: first.packets,
    bytes: first.bytes, start: first.start, end: first.end, action: 'REJECT', log_status: 'OK', source: 'vpc', aws_account_id: '149519528842',
  });
  assert.equal(typeof first.bytes, 'number');
  assert.match(first.start, /^2025-06-26T\d\d:\d\d:\d\dZ$/);
  assert.ok(plain.events.every((e) => aws(e).action === 'REJECT'));
  assert.ok(!plain.events.some((e) => aws(e).version === 'version'), 'the header line is not an event');
});

test('VPC NODATA records are kept as status records without absent fields', async () => {
  const { events } = await decode(read('vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1920Z_21f4b1b7.log'), 'vpcflow');
  assert.equal(events.length, 53);
  const nodata = events.filter((e) => aws(e).log_status === 'NODATA');
  assert.equal(nodata.length, 1);
  assert.equal(aws(nodata[0]).srcaddr, undefined);
  assert.equal(aws(nodata[0]).action, undefined);
  assert.equal(aws(nodata[0]).start, '2025-06-26T19:23:40Z');
});

test('VPC default-format AWS examples: IPv6, ICMP, SKIPDATA', async () => {
  const { events } = await decode(read('vpcflow/awsdocs_default-v2-examples.log'), 'vpcflow');
  assert.ok(events.some((e) => String(aws(e).srcaddr).includes(':')), 'IPv6 kept');
  assert.ok(events.some((e) => aws(e).log_status === 'SKIPDATA'));
  assert.ok(events.some((e) => aws(e).protocol === 1 && aws(e).srcport === 0));
});

test('VPC custom formats are read by their header, in any order', async () => {
  const v5 = (await decode(read('vpcflow/awsdocs_v5-service-path-direction.log'), 'vpcflow')).events;
  assert.equal(v5.length, 2);
  assert.equal(aws(v5[1]).pkt_dst_aws_service, 'S3');
  assert.equal(aws(v5[1]).traffic_path, 8);
  assert.equal(aws(v5[1]).flow_direction, 'egress');
  assert.equal(aws(v5[0]).traffic_path, undefined, '- is absent');
  assert.equal(aws(v5[0]).srcaddr, '52.95.128.179');
  const tcp = (await decode(read('vpcflow/awsdocs_v3-tcp-flag-sequence.log'), 'vpcflow')).events;
  assert.deepEqual(tcp.map((e) => aws(e).tcp_flags), [2, 18, 2, 18, 1, 1, 3, 19]);
  assert.ok(tcp.every((e) => typeof aws(e).tcp_flags === 'number'));
  const nat = (await decode(read('vpcflow/awsdocs_custom-nat-gateway.log'), 'vpcflow')).events;
  assert.equal(aws(nat[0]).pkt_dstaddr, '203.0.113.5');
  assert.equal(aws(nat[0]).instance_id, undefined);
  assert.equal((await decode(read('vpcflow/awsdocs_v3-transit-gateway.log'), 'vpcflow')).events.length > 0, true);
});

test('VPC header-less files: only the 14-field default format is read; others are a clear error', async () => {
  const e = await decodeError(read('vpcflow/elastic_synthetic_v7-ecs-and-v8-reject-reason_noheader.log'), 'vpcflow');
  assert.equal(e.code, 'TLD_ERR_DECODE_FORMAT');
  assert.match(e.message, /line 1 comes before any header line and has 39 fields/);
  const body = read('vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1820Z_1ab9f65a.log').toString().split('\n').slice(1).join('\n');
  const { events } = await decode(Buffer.from(body), 'vpcflow');
  assert.equal(events.length, 101);
  assert.equal(aws(events[0]).srcaddr, '83.222.191.186');
  assert.equal(aws(events[0]).log_status, 'OK');
});

test('VPC: a line with the wrong field count is reported and skipped, the rest kept; unknown header-less input fails', async () => {
  const text = 'version srcaddr dstaddr action log-status\n2 10.0.0.1 10.0.0.2 ACCEPT OK\n2 10.0.0.1 ACCEPT OK\n2 10.0.0.3 10.0.0.4 REJECT OK\n';
  const { events, recordErrors } = await decode(Buffer.from(text), 'vpcflow');
  assert.equal(events.length, 2);
  assert.deepEqual(recordErrors, ['3: 4 fields where the header has 5; line skipped']);
  const e = await decodeError(Buffer.from('hello world this is not a flow log\n'), 'vpcflow');
  assert.equal(e.code, 'TLD_ERR_DECODE_FORMAT');
  assert.equal((await decode(Buffer.from('version srcaddr dstaddr\n'), 'vpcflow')).events.length, 0, 'header-only file');
});

test('GuardDuty Firehose objects, concatenated with no delimiter and newline-delimited: one event per port-probe detail', async () => {
  const dir = 'guardduty/constructed/firehose/guardduty/2019/10/24/21/';
  const a = (await decode(read(dir + 'firehose_guardduty-1-2019-10-24-21-35-12-36f675cc-81e7-4ef5-a8e2-5d940ed90475'), 'guardduty')).events;
  const gz = (await decode(read(dir + 'firehose_guardduty-1-2019-10-24-21-35-12-36f675cc-81e7-4ef5-a8e2-5d940ed90475.gz'), 'guardduty')).events;
  const nl = (await decode(read(dir + 'firehose_guardduty-2-2019-10-24-21-40-12-6b0d549b-6f03-475a-9600-a35a099950d8'), 'guardduty')).events;
  assert.deepEqual(gz, a);
  assert.equal(nl.length, a.length);
  const probes = a.filter((e) => aws(e).type === 'Recon:EC2/PortProbeUnprotectedPort');
  assert.equal(probes.length, 5);
  assert.equal(a.length, 8);
  assert.ok(a.every((e) => aws(e).source === 'guardduty'));
  assert.equal(aws(probes[0]).service.action.portProbeAction.portProbeDetails.localPortDetails.port, 443);
  assert.equal(aws(probes[0]).service.action.portProbeAction.portProbeDetails.remoteIpDetails.ipAddressV4, '211.44.226.158');
  assert.equal(aws(a[0]).version, undefined, 'envelope fields are dropped');
});

test('GuardDuty native export (.jsonl.gz) and single findings; EventBridge envelope sample', async () => {
  const native = (await decode(read('guardduty/constructed/native-export/AWSLogs/884003976652/GuardDuty/us-west-2/2019/10/24/8d116ece-1738-47d9-bd9c-172411e20b8f.jsonl.gz'), 'guardduty')).events;
  assert.ok(native.length >= 3);
  assert.ok(native.every((e) => aws(e).source === 'guardduty'));
  const ssh = (await decode(read('guardduty/awssample_eventbridge_unauthorizedaccess-ec2-sshbruteforce_2018.json'), 'guardduty')).events;
  assert.equal(ssh.length, 1);
  assert.equal(aws(ssh[0]).type, 'UnauthorizedAccess:EC2/SSHBruteForce');
  assert.equal(typeof aws(ssh[0]).resource.instanceDetails.networkInterfaces, 'object');
  assert.ok(!Array.isArray(aws(ssh[0]).resource.instanceDetails.networkInterfaces), 'single-element list unwrapped');
  for (const f of ['real_unauthorizedaccess-ec2-rdpbruteforce_mozilla-2019.json', 'awssample_cryptocurrency-ec2-bitcointool.b-dns_via-mozilla-2019.json', 'awssample_backdoor-ec2-denialofservice.tcp_via-mozilla-2019.json', 'awssample_unauthorizedaccess-iamuser-toripcaller_via-mozilla-2019.json', 'real_recon-ec2-portprobeunprotectedport_mozilla-2019.json']) {
    const ev = (await decode(read('guardduty/' + f), 'guardduty')).events;
    assert.ok(ev.length >= 1, f);
    assert.equal(typeof aws(ev[0]).severity, 'number', f);
  }
});

test('GuardDuty: "}{" inside a string does not split; a truncated last object is an error; PascalCase is refused', async () => {
  const env = (title: string) => JSON.stringify({ version: '0', source: 'aws.guardduty', 'detail-type': 'GuardDuty Finding', detail: { schemaVersion: '2.0', id: title, title, severity: 5, type: 'X', service: { serviceName: 'guardduty' } } });
  const two = (await decode(Buffer.from(env('a}{b') + '\n  ' + env('c')), 'guardduty')).events;
  assert.deepEqual(two.map((e) => aws(e).title), ['a}{b', 'c']);
  const truncated = await decodeError(Buffer.from(env('a') + env('b').slice(0, 40)), 'guardduty');
  assert.equal(truncated.code, 'TLD_ERR_DECODE_JSON');
  assert.match(truncated.message, /truncated JSON: the file ends at byte \d+ inside the object that starts at byte 190/);
  assert.equal(truncated.offset, 190);
  const pascal = await decodeError(Buffer.from(JSON.stringify({ SchemaVersion: '2.0', AccountId: '1', Service: {} })), 'guardduty');
  assert.match(pascal.message, /PascalCase/);
  assert.equal((await decodeError(Buffer.from('{"a":1} nonsense'), 'guardduty')).code, 'TLD_ERR_DECODE_JSON');
});

test('CloudTrail: Records files, arrays of records, EventBridge events; Insights and digests skipped; Wazuh reshaping', async () => {
  const docs = (await decode(read('cloudtrail/awsdocs/cloudtrail-log-file-examples_records.json'), 'cloudtrail', { accountId: '123456789012' })).events;
  assert.equal(docs.length, 6, 'two Insights records skipped');
  assert.ok(docs.every((e) => aws(e).source === 'cloudtrail' && aws(e).aws_account_id === '123456789012'));
  const stratus = (await decode(read('cloudtrail/stratus-red-team/aws.credential-access.ec2-get-password-data.json'), 'cloudtrail')).events;
  assert.equal(stratus.length, 34);
  const denied = (await decode(read('cloudtrail/constructed/createvpc-denied_client-unauthorizedoperation.json'), 'cloudtrail')).events;
  assert.equal(aws(denied[0]).errorCode, 'Client.UnauthorizedOperation');
  assert.equal(aws(denied[0]).responseElements, undefined, 'null removed');
  const ok = (await decode(read('cloudtrail/constructed/AWSLogs/111111111111/CloudTrail/us-east-1/2019/02/25/111111111111_CloudTrail_us-east-1_20190225T1535Z_Mu0KsOhtH1ar15ZZ.json.gz'), 'cloudtrail')).events;
  assert.equal(aws(ok[0]).eventName, 'CreateVpc');
  assert.equal(aws(ok[0]).source_ip_address, '73.125.25.100');
  const eb = (await decode(read('cloudtrail/linuxacademy_eventbridge_createvpc-success.json'), 'cloudtrail')).events;
  assert.equal(aws(eb[0]).eventName, 'CreateVpc');
  assert.equal(aws(eb[0]).responseElements.vpc.cidrBlockAssociationSet.items.cidrBlock, '10.0.0.0/16', 'single-element list unwrapped');
  const logins = (await decode(read('cloudtrail/elastic_console-login_records.json'), 'cloudtrail')).events;
  assert.deepEqual(logins.map((e) => aws(e).responseElements.ConsoleLogin), ['Success', 'Failure', 'Failure']);
  for (const f of ['aws.defense-evasion.cloudtrail-stop.json', 'aws.defense-evasion.vpc-remove-flow-logs.json', 'aws.execution.ec2-launch-unusual-instances.json', 'aws.exfiltration.ec2-security-group-open-port-22-ingress.json', 'aws.initial-access.console-login-without-mfa.json', 'aws.persistence.iam-create-admin-user.json']) {
    assert.ok((await decode(read('cloudtrail/stratus-red-team/' + f), 'cloudtrail')).events.length >= 1, f);
  }
  const reshaped = (await decode(Buffer.from(JSON.stringify({ Records: [{ eventName: 'X', eventSource: 'e', requestParameters: ['a', 'b'], responseElements: true, tags: 'x' }] })), 'cloudtrail')).events;
  assert.deepEqual(aws(reshaped[0]).requestParameters, { string: '["a","b"]' });
  assert.deepEqual(aws(reshaped[0]).responseElements, { string: 'true' });
  assert.deepEqual(aws(reshaped[0]).tags, { value: 'x' });
  assert.equal((await decode(Buffer.from('{"Records":[]}'), 'cloudtrail')).events.length, 0);
  assert.equal((await decode(Buffer.from('{"awsAccountId":"1","digestStartTime":"x","digestS3Object":"y"}'), 'cloudtrail')).events.length, 0);
  assert.equal((await decodeError(Buffer.from('{"Records":[{"a":'), 'cloudtrail')).code, 'TLD_ERR_DECODE_JSON');
});

test('compression is recognised from the bytes: gzip (multi-member), zip, zstd, Snappy framed and Hadoop-Snappy', async () => {
  const text = 'version srcaddr dstaddr action log-status\n2 10.0.0.1 10.0.0.2 ACCEPT OK\n2 10.0.0.3 10.0.0.4 REJECT OK\n';
  const half = text.indexOf('2 10.0.0.3');
  const multi = Buffer.concat([gzipSync(text.slice(0, half)), gzipSync(text.slice(half))]);
  assert.equal((await decode(multi, 'vpcflow')).events.length, 2);
  const zip = Buffer.from(zipSync({ 'a.log': new TextEncoder().encode(text) }));
  assert.equal(detectCompression(zip), 'zip');
  assert.equal((await decode(zip, 'vpcflow')).events.length, 2);
  const raw = Buffer.from(snappy.compress(Buffer.from(text)));
  const frame = (type: number, payload: Buffer) => {
    const h = Buffer.alloc(4);
    h[0] = type;
    h.writeUIntLE(payload.length, 1, 3);
    return Buffer.concat([h, payload]);
  };
  const crc = (data: Buffer) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(maskedCrc32c(data));
    return b;
  };
  const framed = Buffer.concat([Buffer.from([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]), frame(0x00, Buffer.concat([crc(Buffer.from(text)), raw]))]);
  assert.equal(detectCompression(framed), 'snappy-framed');
  assert.equal((await decode(framed, 'vpcflow')).events.length, 2);
  const hadoop = Buffer.alloc(8 + raw.length);
  hadoop.writeUInt32BE(text.length, 0);
  hadoop.writeUInt32BE(raw.length, 4);
  raw.copy(hadoop, 8);
  assert.equal(detectCompression(hadoop), 'hadoop-snappy');
  assert.equal((await decode(hadoop, 'vpcflow')).events.length, 2);
  // `text` compressed by the zstd command-line tool (printf … | zstd -c | xxd -p)
  const zstd = Buffer.from('28b52ffd04588d02007284101680590748a85c14402bf5d72cd9b226315b5b39e8b92386b53bb588655c0858bb2b9652c313dab3670f7a32acf46b06109a7c52d9f035c7d7181facfc4925d7630904008088a0b68785dc5d250c7cb454d2', 'hex');
  assert.equal(detectCompression(zstd), 'zstd');
  assert.equal((await decode(zstd, 'vpcflow')).events.length, 2);
});

test('bad objects get typed errors: empty, truncated gzip, corrupt gzip, unknown binary', async () => {
  assert.equal((await decodeError(Buffer.alloc(0), 'vpcflow')).code, 'TLD_ERR_DECODE_EMPTY_OBJECT');
  const gz = gzipSync(Buffer.from('version srcaddr dstaddr action log-status\n'.repeat(200)));
  assert.equal((await decodeError(gz.subarray(0, gz.length - 30), 'vpcflow')).code, 'TLD_ERR_DECODE_GZIP_TRUNCATED');
  const corrupt = Buffer.from(gz);
  corrupt.fill(0xab, 12, 40);
  assert.equal((await decodeError(corrupt, 'vpcflow')).code, 'TLD_ERR_DECODE_GZIP_CORRUPT');
  assert.equal((await decodeError(Buffer.concat([Buffer.from([0x00, 0x01, 0x02, 0x03]), deflateSync(Buffer.alloc(100))]), 'vpcflow')).code, 'TLD_ERR_DECODE_UNKNOWN_COMPRESSION');
});

test('discard_regex applies to the raw record, anchored at the start only, through arrays', async () => {
  const text = 'version srcaddr dstaddr action log-status\n2 10.0.0.1 10.0.0.2 ACCEPT OK\n2 10.0.0.3 10.0.0.4 REJECT OK\n';
  let dropped = 0;
  const { events } = await decode(Buffer.from(text), 'vpcflow', { discard: { field: 'action', regex: 'REJ' }, onDiscard: () => dropped++ });
  assert.deepEqual(events.map((e) => aws(e).action), ['ACCEPT']);
  assert.equal(dropped, 1);
  const notAnchored = await decode(Buffer.from(text), 'vpcflow', { discard: { field: 'action', regex: 'JECT' } });
  assert.equal(notAnchored.events.length, 2, 're.match semantics: anchored at the start');
  const ct = Buffer.from(JSON.stringify({ Records: [{ eventName: 'A', eventSource: 'sts.amazonaws.com', resources: [{ ARN: 'x' }, { ARN: 'arn:secret' }] }, { eventName: 'B', eventSource: 'ec2.amazonaws.com' }] }));
  assert.deepEqual((await decode(ct, 'cloudtrail', { discard: { field: 'resources.ARN', regex: 'arn:secret' } })).events.map((e) => aws(e).eventName), ['B']);
});
