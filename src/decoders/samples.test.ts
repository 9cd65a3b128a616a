/**
 * Every file in testdata/aws-log-samples goes through `decodeBuffer` with the bucket type it belongs to;
 * counts and field values are asserted exactly. A new sample file without an entry here fails the suite.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { AwsEvent, BucketType } from '../shared/events.js';
import { decodeBuffer, ObjectDecodeError } from './index.js';
/** the shared AWS log samples, copied into the repository (testdata/aws-log-samples/README.md) */
const SAMPLES_DIR = new URL('../../testdata/aws-log-samples/', import.meta.url).pathname;

const ROOT = SAMPLES_DIR.replace(/\/$/, '');
const logInfo = { aws_account_alias: '', log_file: 'key', s3bucket: 'bucket' };
type Fields = Record<string, any>;
/** An event's fields as they are written out (JSON): absent (`-`) fields do not appear. */
const fields = (e: AwsEvent | undefined): Fields => JSON.parse(JSON.stringify(e?.aws ?? {})) as Fields;

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files(p, out);
    else if (name !== 'README.md') out.push(relative(ROOT, p));
  }
  return out.sort();
}

function decodeSample(path: string, extra: { accountId?: string } = {}): { events: AwsEvent[]; recordErrors: string[] } {
  const bucketType = path.split('/')[0] as BucketType;
  const recordErrors: string[] = [];
  const events = decodeBuffer(readFileSync(join(ROOT, path)), {
    bucketType,
    logInfo,
    onRecordError: (line, message) => recordErrors.push(`${line}: ${message}`),
    ...extra,
  });
  return { events, recordErrors };
}

const REAL_1820 = 'vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1820Z_1ab9f65a.log';
const REAL_1920 = 'vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1920Z_21f4b1b7.log';
const FIREHOSE = 'guardduty/constructed/firehose/guardduty/2019/10/24/21/';

/** Expected event count per sample (error code for samples that must be refused). */
const EXPECTED: Record<string, number | string> = {
  'cloudtrail/awsdocs/cloudtrail-log-file-examples_records.json': 6, // 8 records, 2 Insights skipped
  'cloudtrail/constructed/AWSLogs/111111111111/CloudTrail/us-east-1/2019/02/25/111111111111_CloudTrail_us-east-1_20190225T1535Z_Mu0KsOhtH1ar15ZZ.json.gz': 1,
  'cloudtrail/constructed/createvpc-denied_client-unauthorizedoperation.json': 1,
  'cloudtrail/elastic_console-login_records.json': 3,
  'cloudtrail/linuxacademy_createvpc-success_as-s3-records.json': 1,
  'cloudtrail/linuxacademy_eventbridge_createvpc-success.json': 1,
  'cloudtrail/stratus-red-team/aws.credential-access.ec2-get-password-data.json': 34,
  'cloudtrail/stratus-red-team/aws.defense-evasion.cloudtrail-stop.json': 1,
  'cloudtrail/stratus-red-team/aws.defense-evasion.vpc-remove-flow-logs.json': 1,
  'cloudtrail/stratus-red-team/aws.execution.ec2-launch-unusual-instances.json': 3,
  'cloudtrail/stratus-red-team/aws.exfiltration.ec2-security-group-open-port-22-ingress.json': 1,
  'cloudtrail/stratus-red-team/aws.initial-access.console-login-without-mfa.json': 1,
  'cloudtrail/stratus-red-team/aws.persistence.iam-create-admin-user.json': 3,
  'guardduty/awssample_backdoor-ec2-denialofservice.tcp_via-mozilla-2019.json': 1,
  'guardduty/awssample_cryptocurrency-ec2-bitcointool.b-dns_via-mozilla-2019.json': 1,
  'guardduty/awssample_eventbridge_unauthorizedaccess-ec2-sshbruteforce_2018.json': 1,
  'guardduty/awssample_unauthorizedaccess-iamuser-toripcaller_via-mozilla-2019.json': 1,
  [`${FIREHOSE}firehose_guardduty-1-2019-10-24-21-35-12-36f675cc-81e7-4ef5-a8e2-5d940ed90475`]: 8, // 4 envelopes, one probe ×5
  [`${FIREHOSE}firehose_guardduty-1-2019-10-24-21-35-12-36f675cc-81e7-4ef5-a8e2-5d940ed90475.gz`]: 8,
  [`${FIREHOSE}firehose_guardduty-2-2019-10-24-21-40-12-6b0d549b-6f03-475a-9600-a35a099950d8`]: 8,
  'guardduty/constructed/native-export/AWSLogs/884003976652/GuardDuty/us-west-2/2019/10/24/8d116ece-1738-47d9-bd9c-172411e20b8f.jsonl.gz': 7, // 3 findings, one probe ×5
  'guardduty/real_recon-ec2-portprobeunprotectedport_mozilla-2019.json': 5,
  'guardduty/real_unauthorizedaccess-ec2-rdpbruteforce_mozilla-2019.json': 1,
  'vpcflow/awsdocs_custom-nat-gateway.log': 4,
  'vpcflow/awsdocs_default-v2-examples.log': 7,
  'vpcflow/awsdocs_v3-tcp-flag-sequence.log': 8,
  'vpcflow/awsdocs_v3-transit-gateway.log': 4,
  'vpcflow/awsdocs_v5-service-path-direction.log': 2,
  'vpcflow/elastic_synthetic_v7-ecs-and-v8-reject-reason_noheader.log': 'TLD_ERR_DECODE_FORMAT',
  [REAL_1820]: 101,
  [`${REAL_1820}.gz`]: 101,
  [REAL_1920]: 53,
  [`${REAL_1920}.gz`]: 53,
};

test('every sample file decodes to the expected number of events, with no record errors', () => {
  const seen = files(ROOT);
  assert.deepEqual(seen, Object.keys(EXPECTED).sort(), 'every sample has an expectation');
  for (const path of seen) {
    const expected = EXPECTED[path];
    if (typeof expected === 'string') {
      assert.throws(() => decodeSample(path), (e: unknown) => e instanceof ObjectDecodeError && e.code === expected, path);
      continue;
    }
    const { events, recordErrors } = decodeSample(path);
    assert.equal(events.length, expected, path);
    assert.deepEqual(recordErrors, [], path);
    for (const e of events) {
      assert.equal(e.integration, 'aws');
      assert.equal(e.aws.log_info, logInfo, 'log_info first, shared');
      assert.equal(Object.keys(e.aws)[0], 'log_info');
      assert.equal(e.aws.source, path.startsWith('vpcflow') ? 'vpc' : path.split('/')[0], path);
    }
  }
});

test('VPC real sample: first record exactly as Wazuh shapes it, typed, header not an event; .log.gz identical', () => {
  const plain = decodeSample(REAL_1820, { accountId: '149519528842' }).events;
  const gz = decodeSample(`${REAL_1820}.gz`, { accountId: '149519528842' }).events;
  assert.deepEqual(gz, plain);
  const first = plain[0];
  assert.deepEqual(first, {
    integration: 'aws',
    aws: {
      log_info: logInfo,
      version: 2,
      account_id: '149519528842',
      interface_id: 'eni-0b86aa3a110035a1e',
      srcaddr: '83.222.191.186',
      dstaddr: '10.0.1.208',
      srcport: 51685,
      dstport: 22222,
      protocol: 6,
      packets: 1,
      bytes: 40,
      start: '2025-06-26T18:22:39Z',
      end: '2025-06-26T18:22:58Z',
      action: 'REJECT',
      log_status: 'OK',
      source: 'vpc',
      aws_account_id: '149519528842',
    },
  });
  // key order is the wire order (Wazuh: log_info, fields in header order, source, aws_account_id)
  assert.deepEqual(Object.keys(first!.aws), ['log_info', 'version', 'account_id', 'interface_id', 'srcaddr', 'dstaddr', 'srcport', 'dstport', 'protocol', 'packets', 'bytes', 'start', 'end', 'action', 'log_status', 'source', 'aws_account_id']);
  assert.ok(plain.every((e) => fields(e).action === 'REJECT' && fields(e).version === 2));
  assert.equal(new Set(plain.map((e) => fields(e).interface_id)).size, 2);
});

test('VPC NODATA record is kept as a status record with absent fields omitted', () => {
  const events = decodeSample(REAL_1920).events;
  const nodata = events.filter((e) => fields(e).log_status === 'NODATA');
  assert.equal(nodata.length, 1);
  const { log_info: _l, ...rest } = fields(nodata[0]);
  assert.deepEqual(rest, { version: 2, account_id: '149519528842', interface_id: 'eni-02269882c990fd3f5', start: '2025-06-26T19:23:40Z', end: '2025-06-26T19:24:11Z', log_status: 'NODATA', source: 'vpc' });
});

test('VPC AWS examples: IPv6 kept, SKIPDATA, custom orders, v5 fields, format without version', () => {
  const v2 = decodeSample('vpcflow/awsdocs_default-v2-examples.log').events;
  assert.deepEqual(v2.map((e) => fields(e).log_status), ['OK', 'OK', 'NODATA', 'SKIPDATA', 'OK', 'OK', 'OK']);
  assert.equal(fields(v2[6]).srcaddr, '2001:db8:1234:a100:8d6e:3477:df66:f105');
  assert.equal(fields(v2[6]).dstaddr, '2001:db8:1234:a102:3304:8879:34cf:4071');
  assert.equal(fields(v2[6]).start, '2016-10-31T11:35:08Z');
  assert.equal(fields(v2[4]).protocol, 1);
  assert.equal(fields(v2[4]).srcport, 0);

  const tcp = decodeSample('vpcflow/awsdocs_v3-tcp-flag-sequence.log').events;
  assert.deepEqual(tcp.map((e) => fields(e).tcp_flags), [2, 18, 2, 18, 1, 1, 3, 19]);
  assert.deepEqual(tcp.map((e) => fields(e).bytes).slice(0, 3), [568, 376, 100701]);
  assert.equal(fields(tcp[0]).pkt_srcaddr, '52.213.180.42');
  assert.equal(fields(tcp[0]).type, 'IPv4');

  const tgw = decodeSample('vpcflow/awsdocs_v3-transit-gateway.log').events;
  assert.deepEqual(tgw.map((e) => fields(e).instance_id), ['i-01234567890123456', 'i-01234567890123456', undefined, undefined]);
  assert.equal(fields(tgw[2]).pkt_srcaddr, '10.20.33.164');

  const v5 = decodeSample('vpcflow/awsdocs_v5-service-path-direction.log').events;
  assert.deepEqual(Object.keys(fields(v5[0])).slice(1, 6), ['version', 'srcaddr', 'dstaddr', 'srcport', 'dstport']);
  assert.equal(fields(v5[0]).pkt_src_aws_service, 'S3');
  assert.equal(fields(v5[0]).traffic_path, undefined);
  assert.equal(fields(v5[0]).flow_direction, 'ingress');
  assert.equal(fields(v5[1]).traffic_path, 8);
  assert.equal(fields(v5[1]).az_id, 'apse2-az3');
  assert.equal(fields(v5[1]).sublocation_type, undefined);

  const nat = decodeSample('vpcflow/awsdocs_custom-nat-gateway.log').events;
  assert.deepEqual(Object.keys(fields(nat[0])), ['log_info', 'interface_id', 'srcaddr', 'dstaddr', 'pkt_srcaddr', 'pkt_dstaddr', 'source']);
  assert.equal(fields(nat[3]).pkt_srcaddr, '203.0.113.5');
});

test('VPC header-less sample with 39/40 fields is refused with a message naming the cause', () => {
  assert.throws(
    () => decodeSample('vpcflow/elastic_synthetic_v7-ecs-and-v8-reject-reason_noheader.log'),
    /line 1 comes before any header line and has 39 fields; without a header only the default format \(14 fields\) can be read/,
  );
});

test('GuardDuty Firehose: both framings and the gzip copy give the same events; port probe split into 5', () => {
  const a = decodeSample(`${FIREHOSE}firehose_guardduty-1-2019-10-24-21-35-12-36f675cc-81e7-4ef5-a8e2-5d940ed90475`).events;
  const nl = decodeSample(`${FIREHOSE}firehose_guardduty-2-2019-10-24-21-40-12-6b0d549b-6f03-475a-9600-a35a099950d8`).events;
  const gz = decodeSample(`${FIREHOSE}firehose_guardduty-1-2019-10-24-21-35-12-36f675cc-81e7-4ef5-a8e2-5d940ed90475.gz`).events;
  assert.deepEqual(nl, a);
  assert.deepEqual(gz, a);
  const probes = a.filter((e) => fields(e).type === 'Recon:EC2/PortProbeUnprotectedPort');
  assert.equal(probes.length, 5);
  const details = probes.map((e) => fields(e).service.action.portProbeAction.portProbeDetails);
  assert.ok(details.every((d) => !Array.isArray(d) && typeof d.localPortDetails.port === 'number'));
  assert.equal(details[0].remoteIpDetails.ipAddressV4, '211.44.226.158');
  assert.equal(details[0].localPortDetails.port, 443);
  assert.equal(new Set(details.map((d) => JSON.stringify(d))).size, 5, 'each copy carries its own entry');
  for (const e of a) {
    assert.equal(fields(e).source, 'guardduty');
    for (const k of ['version', 'detail-type', 'account', 'time', 'resources']) assert.equal(Object.hasOwn(e.aws, k), false, k);
    assert.equal(Object.hasOwn(e.aws, 'aws_account_id'), false, 'no aws_account_id for GuardDuty');
  }
  const ssh = a.find((e) => fields(e).type === 'UnauthorizedAccess:EC2/SSHBruteForce');
  assert.equal(Object.keys(ssh!.aws).at(-1), 'source');
});

test('GuardDuty native export (.jsonl.gz): bare findings, source from service.serviceName, accounts kept', () => {
  const events = decodeSample('guardduty/constructed/native-export/AWSLogs/884003976652/GuardDuty/us-west-2/2019/10/24/8d116ece-1738-47d9-bd9c-172411e20b8f.jsonl.gz').events;
  assert.deepEqual(
    events.map((e) => `${fields(e).type} ${fields(e).accountId}`),
    [
      ...Array(5).fill('Recon:EC2/PortProbeUnprotectedPort 884003976652'),
      'UnauthorizedAccess:EC2/RDPBruteForce 692406183521',
      'CryptoCurrency:EC2/BitcoinTool.B!DNS 371522382791',
    ],
  );
  const rdp = fields(events[5]);
  assert.equal(rdp.service.action.networkConnectionAction.remoteIpDetails.ipAddressV4, '185.209.0.81');
  assert.equal(rdp.service.action.networkConnectionAction.localPortDetails.port, 3389);
  assert.equal(rdp.severity, 2);
});

test('GuardDuty EventBridge sample: detail under aws, single NIC unwrapped, its single security group stays a list', () => {
  const [e] = decodeSample('guardduty/awssample_eventbridge_unauthorizedaccess-ec2-sshbruteforce_2018.json').events;
  const nic = fields(e).resource.instanceDetails.networkInterfaces;
  assert.equal(Array.isArray(nic), false);
  assert.equal(typeof nic.privateIpAddress, 'string');
  assert.equal(Array.isArray(nic.securityGroups), true, "Wazuh's unwrapping does not descend into the element it unwrapped");
  assert.equal(fields(e).type, 'UnauthorizedAccess:EC2/SSHBruteForce');
});

test('CloudTrail samples: Wazuh reshaping, account from the key, Insights skipped, arrays of records', () => {
  const key = 'cloudtrail/constructed/AWSLogs/111111111111/CloudTrail/us-east-1/2019/02/25/111111111111_CloudTrail_us-east-1_20190225T1535Z_Mu0KsOhtH1ar15ZZ.json.gz';
  const [gz] = decodeSample(key, { accountId: '111111111111' }).events;
  assert.equal(fields(gz).eventName, 'CreateVpc');
  assert.equal(fields(gz).aws_account_id, '111111111111');
  assert.equal(fields(gz).source_ip_address, '73.125.25.100');
  assert.deepEqual(Object.keys(gz!.aws).slice(-3), ['source', 'aws_account_id', 'source_ip_address']);
  assert.equal(fields(gz).responseElements.vpc.cidrBlockAssociationSet.items.cidrBlock, '10.0.0.0/16');

  const [eb] = decodeSample('cloudtrail/linuxacademy_eventbridge_createvpc-success.json').events;
  const [rec] = decodeSample('cloudtrail/linuxacademy_createvpc-success_as-s3-records.json').events;
  assert.deepEqual(eb, rec, 'the EventBridge envelope yields the same event as the Records file');

  const [denied] = decodeSample('cloudtrail/constructed/createvpc-denied_client-unauthorizedoperation.json').events;
  assert.equal(fields(denied).errorCode, 'Client.UnauthorizedOperation');
  assert.equal(Object.hasOwn(denied!.aws, 'responseElements'), false, 'null removed');

  const docs = decodeSample('cloudtrail/awsdocs/cloudtrail-log-file-examples_records.json').events;
  assert.ok(docs.every((e) => typeof fields(e).eventName === 'string'));

  const logins = decodeSample('cloudtrail/elastic_console-login_records.json').events;
  assert.deepEqual(logins.map((e) => fields(e).responseElements.ConsoleLogin), ['Success', 'Failure', 'Failure']);

  const pw = decodeSample('cloudtrail/stratus-red-team/aws.credential-access.ec2-get-password-data.json').events;
  assert.equal(pw.filter((e) => fields(e).eventName === 'GetPasswordData' && fields(e).errorCode === 'Client.UnauthorizedOperation').length, 30);
  const odd = decodeSample('cloudtrail/stratus-red-team/aws.execution.ec2-launch-unusual-instances.json').events;
  const run = odd.find((e) => fields(e).eventName === 'RunInstances');
  assert.equal(fields(run).awsRegion, 'ca-south-3r');
  assert.equal(fields(run).source_ip_address, '06.237.252.245', 'odd anonymised IPs kept as they are');
});
