import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadConfig } from './load.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { docsPage, withReadmeBlock } from './docs.js';

const here = new URL('.', import.meta.url).pathname;
const root = new URL('../../', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'tld-config-'));
let n = 0;
function conf(body: string): string {
  const file = join(tmp, `c${n++}.conf`);
  writeFileSync(file, body);
  return file;
}
function wodle(inner: string, extra = ''): string {
  return conf(`<ossec_config>\n<wodle name="aws-s3">\n${inner}\n</wodle>\n${extra}</ossec_config>\n`);
}
async function issuesOf(file: string | string[]): Promise<ConfigIssue[]> {
  try {
    await loadConfig(Array.isArray(file) ? file : [file]);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.filter((i) => i.severity === 'error');
    throw e;
  }
  return [];
}

test("the issue's example config (in a multi-root ossec.conf with && in a command) loads to the expected config", async () => {
  const file = join(here, 'testdata/issue-example.conf');
  const { config, warnings } = await loadConfig([file]);
  assert.deepEqual(warnings, []);
  assert.equal(config.global.logallJson, true);
  assert.equal(config.alerts.logAlertLevel, 3);
  assert.deepEqual(config.awsS3 && { ...config.awsS3, buckets: undefined }, {
    disabled: false, intervalSeconds: 600, runOnStart: true, skipOnError: true, workers: 0, schedule: {}, buckets: undefined, subscribers: [],
  });
  assert.deepEqual(config.awsS3?.buckets, [
    { type: 'vpcflow', name: 'wazuh-aws-wodle', path: '', pathSuffix: '', awsAccountAlias: '', removeFromBucket: false, lookbackDays: 1, awsProfile: 'default', origin: { file, line: 16 } },
    { type: 'guardduty', name: 'wazuh-aws-wodle', path: 'firehose/', pathSuffix: '', awsAccountAlias: '', removeFromBucket: false, lookbackDays: 1, awsProfile: 'default', origin: { file, line: 20 } },
  ]);
  assert.deepEqual(config.dashboard, { host: '127.0.0.1', port: 8080, user: 'admin', signinFailuresPerAddress: 5, signinFailuresPerUser: 10, signinLockoutSeconds: 60, signinMaxLockoutSeconds: 900 });
  assert.deepEqual(config.store, { flowRetentionDays: 30, alertRetentionDays: 365, backend: 'embedded', memoryLimitMb: 64 });
  assert.equal(config.indexer, null);
});

test('every bucket option parses to its typed value', async () => {
  const { config } = await loadConfig([wodle(`
    <interval>2h</interval><run_on_start>no</run_on_start><skip_on_error>no</skip_on_error>
    <bucket type="cloudtrail">
      <name>my.trail-bucket</name><path>trails</path><path_suffix>sfx</path_suffix>
      <aws_profile>prod</aws_profile><iam_role_arn>arn:aws:iam::123456789012:role/reader</iam_role_arn>
      <iam_role_duration>1800</iam_role_duration><aws_account_id>111111111111, 222222222222</aws_account_id>
      <aws_account_alias>prod</aws_account_alias><aws_organization_id>o-a1b2c3d4e5</aws_organization_id>
      <regions>us-west-2,us-east-1,us-gov-west-1</regions><only_logs_after>2018-aug-21</only_logs_after>
      <remove_from_bucket>yes</remove_from_bucket><discard_regex field="eventSource">.*sts.amazonaws.com.*</discard_regex>
      <sts_endpoint>https://sts.us-east-1.amazonaws.com</sts_endpoint><service_endpoint>http://127.0.0.1:9000</service_endpoint>
      <lookback_days>3</lookback_days>
    </bucket>`)]);
  const b = config.awsS3?.buckets[0];
  assert.equal(config.awsS3?.intervalSeconds, 7200);
  assert.equal(config.awsS3?.runOnStart, false);
  assert.equal(config.awsS3?.skipOnError, false);
  assert.deepEqual({ ...b, origin: undefined }, {
    type: 'cloudtrail', name: 'my.trail-bucket', path: 'trails/', pathSuffix: 'sfx/', awsProfile: 'prod',
    iamRoleArn: 'arn:aws:iam::123456789012:role/reader', iamRoleDuration: 1800,
    awsAccountIds: ['111111111111', '222222222222'], awsAccountAlias: 'prod', awsOrganizationId: 'o-a1b2c3d4e5',
    regions: ['us-east-1', 'us-gov-west-1', 'us-west-2'], onlyLogsAfter: '2018-08-21', removeFromBucket: true,
    discardRegex: { field: 'eventSource', regex: '.*sts.amazonaws.com.*' }, stsEndpoint: 'https://sts.us-east-1.amazonaws.com',
    serviceEndpoint: 'http://127.0.0.1:9000', lookbackDays: 3, origin: undefined,
  });
});

test('all errors of a file are reported at once, each with file, line, tag and what is allowed', async () => {
  const file = join(here, 'testdata/many-errors.conf');
  const issues = await issuesOf(file);
  const brief = issues.map((i) => `${i.line}:${i.tag}`);
  assert.deepEqual(brief, ['3:interval', '4:run_on_start', '5:colour', '7:name', '8:aws_account_id', '9:regions', '10:only_logs_after', '11:iam_role_duration', '12:discard_regex', '14:bucket', '15:bucket', '16:service']);
  assert.ok(issues.every((i) => i.file === file));
  assert.match(issues.find((i) => i.tag === 'colour')?.allowed ?? '', /interval.*bucket/);
  assert.match(issues.find((i) => i.line === 14)?.message ?? '', /'waf' is not supported yet/);
});

test('scheduling rules: day and wday conflict; time forces a daily interval with a warning', async () => {
  assert.deepEqual((await issuesOf(wodle('<day>3</day><wday>monday</wday><bucket type="vpcflow"><name>abc</name></bucket>'))).map((i) => i.tag), ['wday']);
  const { config, warnings } = await loadConfig([wodle('<interval>10m</interval><time>02:30</time><wday>sat</wday><bucket type="vpcflow"><name>abc</name></bucket>')]);
  assert.equal(config.awsS3?.intervalSeconds, 604_800);
  assert.deepEqual(config.awsS3?.schedule, { wday: 6, time: '02:30' });
  assert.ok(warnings.some((w) => w.tag === 'interval' && /one week/.test(w.message)));
});

test('malformed XML names the line; a missing file names the file', async () => {
  const bad = conf('<ossec_config>\n<wodle name="aws-s3">\n<bucket type="vpcflow"><name>abc</name></bucket>\n</wodel>\n</ossec_config>\n');
  const issues = await issuesOf(bad);
  assert.ok(issues.some((i) => i.tag === 'xml' && i.line === 4), JSON.stringify(issues));
  const missing = await issuesOf(join(tmp, 'nope.conf'));
  assert.deepEqual(missing.map((i) => i.message), ['file not found']);
});

test('legacy and unsupported forms get clear "not supported" errors', async () => {
  const issues = await issuesOf(wodle('<bucket>old-bucket</bucket><remove_from_bucket>yes</remove_from_bucket><subscriber type="security_lake"/>'));
  assert.match(issues.map((i) => i.message).join('\n'), /legacy form <bucket>NAME<\/bucket> is not supported[\s\S]*module-level <remove_from_bucket>[\s\S]*<subscriber> \(security_lake\) is not supported yet/);
  assert.deepEqual((await issuesOf(wodle('<interval>5m</interval>'))).map((i) => i.message), ['no <bucket> or <subscriber> defined in the aws-s3 module']);
});

test('a <subscriber type="buckets"> parses every option, prefixes longest first; a wodle with only a subscriber is valid', async () => {
  const { config } = await loadConfig([wodle(`
    <subscriber type="buckets">
      <sqs_name>tld-notifications</sqs_name><aws_profile>prod</aws_profile>
      <iam_role_arn>arn:aws:iam::123456789012:role/reader</iam_role_arn><iam_role_duration>1800</iam_role_duration>
      <external_id>ext-1</external_id><sts_endpoint>https://sts.us-east-1.amazonaws.com</sts_endpoint>
      <service_endpoint>http://127.0.0.1:9000</service_endpoint><sqs_endpoint>http://127.0.0.1:9324</sqs_endpoint>
      <aws_account_alias>prod</aws_account_alias><discard_regex field="action">REJECT</discard_regex>
      <key_prefix type="guardduty">firehose</key_prefix><key_prefix type="custom">firehose/app/</key_prefix>
      <visibility_timeout>60</visibility_timeout><wait_time>5</wait_time><max_messages>4</max_messages>
    </subscriber>`)]);
  assert.equal(config.awsS3?.buckets.length, 0);
  const s = config.awsS3?.subscribers[0];
  assert.deepEqual({ ...s, origin: undefined }, {
    type: 'buckets', sqsName: 'tld-notifications', awsProfile: 'prod', iamRoleArn: 'arn:aws:iam::123456789012:role/reader', iamRoleDuration: 1800,
    externalId: 'ext-1', stsEndpoint: 'https://sts.us-east-1.amazonaws.com', serviceEndpoint: 'http://127.0.0.1:9000', sqsEndpoint: 'http://127.0.0.1:9324',
    awsAccountAlias: 'prod', discardRegex: { field: 'action', regex: 'REJECT' },
    keyPrefixes: [{ prefix: 'firehose/app/', type: 'custom' }, { prefix: 'firehose/', type: 'guardduty' }],
    visibilityTimeoutSecs: 60, waitTimeSecs: 5, maxMessages: 4, origin: undefined,
  });
  const d = (await loadConfig([wodle('<subscriber type="buckets"><sqs_name>q</sqs_name></subscriber>')])).config.awsS3?.subscribers[0];
  assert.deepEqual([d?.visibilityTimeoutSecs, d?.waitTimeSecs, d?.maxMessages, d?.keyPrefixes], [300, 20, 10, []]);
});

test('subscriber mistakes are errors naming the tag', async () => {
  const messages = async (inner: string) => (await issuesOf(wodle(inner))).map((i) => `${i.tag}: ${i.message}`);
  assert.deepEqual(await messages('<subscriber type="buckets"><aws_profile>p</aws_profile></subscriber>'), ['subscriber: missing <sqs_name>']);
  assert.deepEqual(await messages('<subscriber type="buckets"><sqs_name>bad name!</sqs_name></subscriber>'), ["sqs_name: 'bad name!' is not an SQS queue name (1–80 letters, digits, - or _)"]);
  assert.deepEqual(await messages('<subscriber type="buckets"><sqs_name>q</sqs_name><external_id>x</external_id></subscriber>'), ['external_id: needs <iam_role_arn>']);
  assert.deepEqual(await messages('<subscriber type="buckets"><sqs_name>q</sqs_name><key_prefix type="waf">a/</key_prefix><key_prefix>b/</key_prefix></subscriber>'), ["key_prefix: invalid type 'waf'", 'key_prefix: missing attribute type']);
  assert.deepEqual(await messages('<subscriber type="buckets"><sqs_name>q</sqs_name><visibility_timeout>1</visibility_timeout><sqs_nme>x</sqs_nme></subscriber>'), ['visibility_timeout: 1 is outside 2–43200', 'sqs_nme: no such option in <subscriber type="buckets">; did you mean <sqs_name>?']);
  assert.deepEqual(await messages('<subscriber type="queues"><sqs_name>q</sqs_name></subscriber>'), ["subscriber: invalid subscriber type 'queues'"]);
});

test('several files merge; a second aws-s3 wodle is refused; relative rule paths resolve against their file', async () => {
  const a = wodle('<bucket type="vpcflow"><name>abc</name></bucket>');
  const b = conf('<ossec_config><alerts><log_alert_level>5</log_alert_level></alerts><ruleset><rule_dir>my-rules</rule_dir><list>lists/bad-ips</list></ruleset><store><flow_retention_days>7</flow_retention_days></store></ossec_config>');
  const { config } = await loadConfig([a, b]);
  assert.equal(config.alerts.logAlertLevel, 5);
  assert.equal(config.store.flowRetentionDays, 7);
  assert.deepEqual(config.ruleset.ruleDirs, [join(tmp, 'my-rules')]);
  assert.deepEqual(config.ruleset.lists, [join(tmp, 'lists/bad-ips')]);
  const issues = await issuesOf([a, wodle('<bucket type="vpcflow"><name>def</name></bucket>')]);
  assert.match(issues[0]?.message ?? '', /second <wodle name="aws-s3">/);
});

test('the dashboard refuses to listen beyond loopback without a password hash or token', async () => {
  const issues = await issuesOf(conf('<ossec_config><dashboard><host>0.0.0.0</host></dashboard></ossec_config>'));
  assert.match(issues[0]?.message ?? '', /without authentication/);
  const { config } = await loadConfig([conf('<ossec_config><dashboard><host>0.0.0.0</host><token>abcdefghijklmnopqrstuvwxyz12</token></dashboard></ossec_config>')]);
  assert.equal(config.awsS3, null);
  assert.equal(config.dashboard.token, 'abcdefghijklmnopqrstuvwxyz12');
});

test('HTTPS needs both <tls_cert> and <tls_key>; paths resolve against the file; plain HTTP beyond loopback with a password warns', async () => {
  const issues = await issuesOf(conf('<ossec_config><dashboard><tls_cert>c.pem</tls_cert></dashboard></ossec_config>'));
  assert.match(issues[0]?.message ?? '', /both <tls_cert> and <tls_key>/);
  const { config } = await loadConfig([conf('<ossec_config><dashboard><tls_cert>c.pem</tls_cert><tls_key>/etc/k.pem</tls_key></dashboard></ossec_config>')]);
  assert.equal(config.dashboard.tlsCert, join(tmp, 'c.pem'));
  assert.equal(config.dashboard.tlsKey, '/etc/k.pem');
  const hash = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g=';
  const plain = await loadConfig([conf(`<ossec_config><dashboard><host>0.0.0.0</host><password_hash>${hash}</password_hash></dashboard></ossec_config>`)]);
  assert.match(plain.warnings.map((w) => w.message).join('\n'), /plain HTTP/);
});

test('tld check-config exits 2 and prints FILE:LINE for each error; 0 on a good file', () => {
  const run = (file: string) => spawnSync(process.execPath, [join(root, 'bin/tld.js'), 'check-config', '-c', file], { encoding: 'utf8' });
  const bad = run(join(here, 'testdata/many-errors.conf'));
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /many-errors\.conf:5: error: <colour>: no such option/);
  assert.equal(bad.stderr.split('\n').filter((l) => / error: /.test(l)).length, 12);
  const good = run(join(here, 'testdata/issue-example.conf'));
  assert.equal(good.status, 0, good.stderr);
  assert.match(good.stdout, /guardduty\s+s3:\/\/wazuh-aws-wodle\/firehose\//);
});

test('docs/config.md and the README reference block are generated from the schema and up to date', () => {
  assert.equal(readFileSync(join(root, 'docs/config.md'), 'utf8'), docsPage(), 'run: node --import tsx src/config/docs.ts --write');
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  assert.equal(readme, withReadmeBlock(readme), 'run: node --import tsx src/config/docs.ts --write');
});
