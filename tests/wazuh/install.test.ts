/**
 * A Wazuh user's configuration as it is: Wazuh 4.14's manager ossec.conf (its `<ruleset>` with `<decoder_dir>`,
 * `<rule_dir>`, `<list>` and `<rule_exclude>`) laid out as a Wazuh install in a temp folder, their rule files and
 * their CDB lists. The reference files are copied at test time from ../shared/reference/wazuh-ruleset/; the
 * install's other rule files are small stand-ins of Wazuh's (an sshd decoder's rules, the syslog category
 * template, a local rule below sshd), written here.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { wazuhReference } from '../../testdata/wazuh-reference.js';
import { loadConfig } from '../../src/config/load.js';
import { checkConfiguration } from '../../src/operations/check-config.js';
import { createAnalyzer, loadRuleset, RuleLoadError } from '../../src/analysis/index.js';
import type { AwsEvent } from '../../src/shared/events.js';
import { startLocalS3, type LocalS3 } from '../../src/demo/local-s3.js';

const REF = wazuhReference();
const bin = new URL('../../bin/tld.js', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'tld-wazuh-'));
let n = 0;
let s3: LocalS3;

before(async () => {
  s3 = await startLocalS3({ directory: join(tmp, 's3') });
});
after(async () => s3?.close());

function write(path: string, text: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** Rules of Wazuh's other files, as they are shaped there: none applies to AWS events. */
const SSHD_RULES = `<group name="syslog,sshd,">
  <rule id="5700" level="0" noalert="1">
    <decoded_as>sshd</decoded_as>
    <description>SSHD messages grouped.</description>
  </rule>
  <rule id="5716" level="5">
    <if_sid>5700</if_sid>
    <match>^Failed|^error: PAM: Authentication</match>
    <description>sshd: authentication failed.</description>
    <group>authentication_failed,</group>
  </rule>
</group>
`;
const RULES_CONFIG = `<group name="syslog,">
  <rule id="1" level="0" noalert="1">
    <category>syslog</category>
    <description>Generic template for all syslog rules.</description>
  </rule>
</group>
`;
const POLICY_RULES = `<group name="policy_violation,">
  <rule id="17101" level="9">
    <if_group>login_time</if_group>
    <description>Successful login during non-business hours.</description>
  </rule>
</group>
`;
/** Wazuh's etc/rules/local_rules.xml example: a child of an sshd rule. */
const LOCAL_RULES = `<group name="local,syslog,sshd,">
  <rule id="100001" level="5">
    <if_sid>5716</if_sid>
    <match>1.1.1.1</match>
    <description>sshd: authentication failed from IP 1.1.1.1.</description>
    <group>authentication_failed,pci_dss_10.2.4,pci_dss_10.2.5,</group>
  </rule>
</group>
`;

/**
 * A Wazuh install (`/var/ossec` layout) in a temp folder: the reference manager ossec.conf as etc/ossec.conf
 * (with `extra` added to it), Wazuh's AWS rule file in ruleset/rules, its lists in etc/lists/amazon, and the
 * lists the default <ruleset> names. Returns the install folder.
 */
function wazuhInstall(extra = ''): string {
  const home = join(tmp, `ossec${n++}`);
  const conf = readFileSync(join(REF, 'ossec-server.conf'), 'utf8');
  const end = conf.lastIndexOf('</ossec_config>');
  write(join(home, 'etc/ossec.conf'), `${conf.slice(0, end)}${extra}\n${conf.slice(end)}`);
  mkdirSync(join(home, 'ruleset/rules'), { recursive: true });
  copyFileSync(join(REF, '0350-amazon_rules.xml'), join(home, 'ruleset/rules/0350-amazon_rules.xml'));
  write(join(home, 'ruleset/rules/0095-sshd_rules.xml'), SSHD_RULES);
  write(join(home, 'ruleset/rules/0010-rules_config.xml'), RULES_CONFIG);
  write(join(home, 'ruleset/rules/0215-policy_rules.xml'), POLICY_RULES);
  write(join(home, 'etc/rules/local_rules.xml'), LOCAL_RULES);
  mkdirSync(join(home, 'etc/lists/amazon'), { recursive: true });
  for (const list of ['aws-eventnames', 'aws-sources']) copyFileSync(join(REF, 'lists/amazon', list), join(home, 'etc/lists/amazon', list));
  write(join(home, 'etc/lists/audit-keys'), 'audit-wazuh-w:write\n');
  for (const list of ['malware-hashes', 'malicious-ip', 'malicious-domains']) write(join(home, 'etc/lists/malicious-ioc', list), 'placeholder:\n');
  return home;
}

const NO_STACK = /\n\s+at [\w.<]+ \(|unexpected error/;

const ENV = { ...process.env, AWS_EC2_METADATA_DISABLED: 'true', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', TLD_LOG_LEVEL: 'warn' };

function tld(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: ENV });
}

/** tld without blocking this process (the S3 server it reads runs here). */
function tldAsync(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], { env: ENV });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

function cloudTrail(eventName: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventVersion: '1.08',
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111111111111:user/alice', accountId: '111111111111', userName: 'alice' },
    eventTime: '2025-06-26T03:10:00Z',
    eventSource: 'ec2.amazonaws.com',
    eventName,
    awsRegion: 'us-east-1',
    sourceIPAddress: '198.51.100.7',
    userAgent: 'aws-cli/2',
    requestParameters: null,
    responseElements: null,
    eventID: `id-${eventName}`,
    eventType: 'AwsApiCall',
    recipientAccountId: '111111111111',
    ...extra,
  };
}

/** A CloudTrail event as the decoder hands it to the rules. */
function event(eventName: string): AwsEvent {
  return { integration: 'aws', aws: { ...cloudTrail(eventName), source: 'cloudtrail', log_info: { aws_account_alias: '', log_file: 'k', s3bucket: 'b' } } } as unknown as AwsEvent;
}

test("the manager's own ossec.conf in a Wazuh install: check-config and run-once load the AWS rules, report the rest once, and the install's list is used", async () => {
  const bucket = 'wazuh-trail';
  await s3.createBucket(bucket);
  const key = 'AWSLogs/111111111111/CloudTrail/us-east-1/2025/06/26/111111111111_CloudTrail_us-east-1_20250626T0310Z_a1b2c3.json';
  await s3.put(bucket, key, JSON.stringify({ Records: [cloudTrail('StartInstances'), cloudTrail('TldAuditedCall'), cloudTrail('DescribeInstances')] }));
  const home = wazuhInstall(`<wodle name="aws-s3"><bucket type="cloudtrail"><name>${bucket}</name><service_endpoint>${s3.endpoint}</service_endpoint><only_logs_after>2025-JUN-01</only_logs_after></bucket></wodle>`);
  // the user added a call to their install's list, which no <list> in ossec.conf names (as in Wazuh)
  appendFileSync(join(home, 'etc/lists/amazon/aws-eventnames'), 'TldAuditedCall:Audited\n');
  const conf = join(home, 'etc/ossec.conf');

  const check = tld('check-config', '-c', conf);
  assert.equal(check.status, 0, check.stderr);
  assert.match(check.stdout, /Configuration OK/);
  assert.doesNotMatch(check.stdout + check.stderr, NO_STACK);
  assert.doesNotMatch(check.stderr, /: (error|warning): /, 'nothing in the stock configuration is a problem');
  const notes = check.stderr.split('\n').filter((l) => /: note: /.test(l));
  // rules of other log types, per folder, with counts and why; decoders; lists no AWS rule uses; Wazuh's AWS file
  // (rules_config.xml's rule 1 is of category syslog, the category of JSON-decoded events: it is loaded, as in analysisd)
  assert.ok(notes.some((l) => l.includes(`${join(home, 'ruleset/rules')}: 2 rules in 1 file are for other log types than AWS events and were not loaded (1 another decoder (<decoded_as>), 1 parents for other log types only)`)), notes.join('\n'));
  assert.ok(notes.some((l) => l.includes(`${join(home, 'etc/rules')}: 1 rule in 1 file is for other log types than AWS events and was not loaded`)), notes.join('\n'));
  assert.ok(notes.some((l) => /<decoder_dir>: Wazuh decoders are not read \(.*ruleset\/decoders, .*etc\/decoders\)/.test(l)), notes.join('\n'));
  assert.ok(notes.some((l) => l.includes('4 CDB lists no rule for AWS events uses were not read') && l.includes(join(home, 'etc/lists/audit-keys'))), notes.join('\n'));
  assert.ok(notes.some((l) => l.includes("0350-amazon_rules.xml is Wazuh's own 0350-amazon_rules.xml: the shipped ruleset stands in for it")), notes.join('\n'));
  assert.equal(notes.length, 5, notes.join('\n'));
  // each note names the configuration line it is about
  assert.ok(notes.every((l) => l.startsWith(`${conf}:`)), notes.join('\n'));
  // 0215-policy_rules.xml is excluded by the stock <rule_exclude>: it is not even counted as skipped
  assert.doesNotMatch(check.stderr, /0215/);

  const data = join(home, 'tld-data');
  const run = await tldAsync('run-once', '-c', conf, '--data-dir', data, '--no-progress');
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.doesNotMatch(run.stdout + run.stderr, NO_STACK);
  // run-once says what check-config said, once
  const logged = run.stderr.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { msg: string }).msg);
  for (const note of notes) {
    const message = note.replace(/^.*?: note: <[\w_]+>: /, '');
    assert.equal(logged.filter((m) => m === message).length, 1, `run-once logs once: ${message}\n${logged.join('\n')}`);
  }
  const alerts = readFileSync(join(data, 'logs/alerts/alerts.json'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { rule: { id: string }; data: { aws: { eventName: string } } });
  assert.deepEqual(alerts.map((a) => [a.rule.id, a.data.aws.eventName]), [['80202', 'StartInstances'], ['80202', 'TldAuditedCall']]);
});

test('<install_dir> sets where relative <ruleset> paths are read from; unset, the folder holding the config\'s etc/, else the config\'s folder', async () => {
  const home = wazuhInstall();
  const inEtc = await loadConfig([join(home, 'etc/ossec.conf')]);
  assert.equal(inEtc.config.ruleset.installDir, home);
  assert.deepEqual(inEtc.config.ruleset.ruleDirs, [join(home, 'ruleset/rules'), join(home, 'etc/rules')]);
  assert.deepEqual(inEtc.config.ruleset.lists.slice(0, 1), [join(home, 'etc/lists/audit-keys')]);
  assert.deepEqual(inEtc.config.ruleset.ruleExcludes, ['0215-policy_rules.xml']);
  // the same <ruleset> in a config kept elsewhere, pointed at the install
  const elsewhere = write(join(tmp, `conf${n++}`, 'tld.conf'), `<ossec_config><ruleset><install_dir>${home}</install_dir><rule_dir>etc/rules</rule_dir><list>etc/lists/audit-keys</list><rule_exclude>ruleset/rules/0215-policy_rules.xml</rule_exclude></ruleset></ossec_config>`);
  const pointed = await loadConfig([elsewhere]);
  assert.equal(pointed.config.ruleset.installDir, home);
  assert.deepEqual(pointed.config.ruleset.ruleDirs, [join(home, 'etc/rules')]);
  assert.deepEqual(pointed.config.ruleset.ruleExcludes, [join(home, 'ruleset/rules/0215-policy_rules.xml')]);
  // relative <install_dir>: from the config's folder; no <install_dir> and no etc/: the config's folder
  const relative = write(join(home, 'conf', 'tld.conf'), '<ossec_config><ruleset><install_dir>..</install_dir><rule_dir>etc/rules</rule_dir></ruleset></ossec_config>');
  assert.deepEqual((await loadConfig([relative])).config.ruleset.ruleDirs, [join(home, 'etc/rules')]);
  const own = write(join(tmp, `conf${n++}`, 'tld.conf'), '<ossec_config><ruleset><rule_dir>my-rules</rule_dir></ruleset></ossec_config>');
  assert.deepEqual((await loadConfig([own])).config.ruleset.ruleDirs, [join(own, '..', 'my-rules')]);
});

test("a user's <rule_dir> holding Wazuh's 0350-amazon_rules.xml replaces the shipped file: check-config and run-once agree, and Wazuh's rules run", async () => {
  const dir = join(tmp, `user${n++}`);
  copyFileSync(join(REF, '0350-amazon_rules.xml'), write(join(dir, 'my-rules/0350-amazon_rules.xml'), ''));
  const conf = write(join(dir, 'ossec.conf'), '<ossec_config><ruleset><rule_dir>my-rules</rule_dir></ruleset></ossec_config>');
  const check = await checkConfiguration([conf]);
  assert.deepEqual(check.issues.filter((i) => i.severity !== 'note'), []);
  assert.deepEqual(check.issues.map((i) => [i.line, i.tag, i.message]), [[1, 'rule_dir', `${join(dir, 'my-rules/0350-amazon_rules.xml')} replaces the shipped 0350-amazon_rules.xml (a rule file of the same name, as with Wazuh's <rule_exclude>); the shipped rule ids it does not define are gone with it.`]]);
  const cli = tld('check-config', '-c', conf);
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /Rules: \d+ rules from 1 file, 1 CDB list\./);
  // what run-once loads: Wazuh's file alone (its 80202 on its list; none of the shipped detections)
  const { config } = await loadConfig([conf]);
  const ruleset = await loadRuleset(config.ruleset);
  assert.deepEqual([...new Set([...ruleset.rules.values()].map((r) => r.file))], [join(dir, 'my-rules/0350-amazon_rules.xml')]);
  assert.equal(ruleset.rules.has('80630'), false);
  const analyzer = createAnalyzer(ruleset, { logAlertLevel: 3 });
  assert.equal(analyzer.explain(event('StartInstances')).rule?.id, '80202');
  assert.equal(analyzer.explain(event('CreateVpc')).rule?.id, '80202', "Wazuh's 80202 itself, not the shipped 80610 (which alerts under 80202 too)");
  assert.equal(analyzer.explain(event('DescribeInstances')).rule?.id, '80200');
});

test("the same rules under another file name: the error says how to replace the shipped file, and check-config says it too", async () => {
  const dir = join(tmp, `user${n++}`);
  copyFileSync(join(REF, '0350-amazon_rules.xml'), write(join(dir, 'my-rules/aws.xml'), ''));
  const conf = write(join(dir, 'ossec.conf'), '<ossec_config><ruleset><rule_dir>my-rules</rule_dir></ruleset></ossec_config>');
  const { config } = await loadConfig([conf]);
  await assert.rejects(loadRuleset(config.ruleset), (e: unknown) => {
    assert.ok(e instanceof RuleLoadError);
    assert.match(e.problems[0] ?? '', /aws\.xml:13: rule 80200: id already used at .*0350-amazon_rules\.xml:\d+ \(it is a shipped rule: to replace the whole shipped file, name your file 0350-amazon_rules\.xml or add <rule_exclude>0350-amazon_rules\.xml<\/rule_exclude>; to change this one rule, add overwrite="yes"\)/);
    return true;
  });
  const check = await checkConfiguration([conf]);
  assert.ok(check.issues.some((i) => i.severity === 'error' && /rule 80200: id already used .*name your file 0350-amazon_rules\.xml/.test(i.message)));
  // as the message says: excluding the shipped file by name loads theirs
  const fixed = write(join(dir, 'fixed.conf'), '<ossec_config><ruleset><rule_dir>my-rules</rule_dir><rule_exclude>0350-amazon_rules.xml</rule_exclude></ruleset></ossec_config>');
  const fixedRules = await loadRuleset((await loadConfig([fixed])).config.ruleset);
  assert.equal(fixedRules.rules.get('80202')?.file, join(dir, 'my-rules/aws.xml'));
});

test("a user's CDB list with a shipped list's name wins: a key they add to aws-eventnames is used by the shipped 80202", async () => {
  const dir = join(tmp, `user${n++}`);
  const list = write(join(dir, 'lists/aws-eventnames'), `${readFileSync(join(REF, 'lists/amazon/aws-eventnames'), 'utf8')}TldAuditedCall:Audited\n`);
  const conf = write(join(dir, 'ossec.conf'), '<ossec_config><ruleset><list>lists/aws-eventnames</list></ruleset></ossec_config>');
  const { config } = await loadConfig([conf]);
  const ruleset = await loadRuleset(config.ruleset);
  assert.deepEqual(ruleset.lists, [list]);
  assert.deepEqual(ruleset.notes.map((x) => x.message), [`${list} replaces the shipped CDB list aws-eventnames (a list of the same name).`]);
  const analyzer = createAnalyzer(ruleset, { logAlertLevel: 3 });
  assert.equal(analyzer.explain(event('TldAuditedCall')).rule?.id, '80202');
  // without their list the shipped one answers, and the call is not in it
  const shipped = createAnalyzer(await loadRuleset({ ruleDirs: [], ruleFiles: [], lists: [], ruleExcludes: [] }), { logAlertLevel: 3 });
  assert.equal(shipped.explain(event('TldAuditedCall')).rule?.id, '80200');
});

test('<rule_exclude>: a file name excludes it from every folder, a path only that file; a path into Wazuh\'s default folder excludes the shipped file too', async () => {
  const home = wazuhInstall();
  // their edited copy of Wazuh's AWS file in etc/rules, and the stock file excluded by path (Wazuh's documented way)
  copyFileSync(join(REF, '0350-amazon_rules.xml'), join(home, 'etc/rules/0350-amazon_rules.xml'));
  const byPath = write(join(home, 'etc/by-path.conf'), '<ossec_config><ruleset><rule_dir>ruleset/rules</rule_dir><rule_dir>etc/rules</rule_dir><rule_exclude>ruleset/rules/0350-amazon_rules.xml</rule_exclude></ruleset></ossec_config>');
  const copy = await loadRuleset((await loadConfig([byPath])).config.ruleset);
  assert.equal(copy.rules.get('80200')?.file, join(home, 'etc/rules/0350-amazon_rules.xml'));
  assert.equal(copy.rules.has('80630'), false, 'the shipped file is excluded through the path into the default folder');
  // by name: neither their copy nor the shipped file nor Wazuh's: no AWS rule at all
  const byName = write(join(home, 'etc/by-name.conf'), '<ossec_config><ruleset><rule_dir>ruleset/rules</rule_dir><rule_dir>etc/rules</rule_dir><rule_exclude>0350-amazon_rules.xml</rule_exclude></ruleset></ossec_config>');
  const none = await loadRuleset((await loadConfig([byName])).config.ruleset);
  assert.deepEqual([...none.rules.keys()].filter((id) => id.startsWith('80')), []);
});

test("a broken rule for AWS events is still an error; a broken rule of another log type in Wazuh's default folder is only counted", async () => {
  const home = wazuhInstall();
  write(join(home, 'ruleset/rules/0500-broken_rules.xml'), '<group name="x,">\n  <rule id="9001" level="99">\n    <decoded_as>apache</decoded_as>\n    <unknown_thing>1</unknown_thing>\n  </rule>\n</group>\n');
  // a rule of Wazuh's own ruleset this engine cannot read, and the rule below it: left out and counted, never fatal
  write(join(home, 'ruleset/rules/0600-json_rules.xml'), '<group name="ids,">\n  <rule id="9100" level="0">\n    <decoded_as>json</decoded_as>\n    <field name="event_type">alert</field>\n    <frobnicate>yes</frobnicate>\n    <description>IDS alert.</description>\n  </rule>\n  <rule id="9101" level="5">\n    <if_sid>9100</if_sid>\n    <description>IDS alert, any.</description>\n  </rule>\n</group>\n');
  write(join(home, 'etc/rules/aws_local.xml'), '<group name="local,">\n  <rule id="100500" level="20">\n    <if_sid>80202</if_sid>\n    <description>mine</description>\n  </rule>\n</group>\n');
  const check = await checkConfiguration([join(home, 'etc/ossec.conf')]);
  const errors = check.issues.filter((i) => i.severity === 'error');
  assert.deepEqual(errors.map((i) => [i.file, i.line, i.message]), [[join(home, 'etc/rules/aws_local.xml'), 2, 'rule 100500: the level attribute must be 0–16']]);
  // fixed, it loads, and the broken rule of another log type is one of those counted
  write(join(home, 'etc/rules/aws_local.xml'), '<group name="local,">\n  <rule id="100500" level="12">\n    <if_sid>80202</if_sid>\n    <description>mine</description>\n  </rule>\n</group>\n');
  const fixed = await checkConfiguration([join(home, 'etc/ossec.conf')]);
  assert.deepEqual(fixed.issues.filter((i) => i.severity === 'error'), []);
  assert.ok(fixed.issues.some((i) => i.severity === 'note' && /ruleset\/rules: 5 rules in 3 files are for other log types .*1 not readable here.* One not readable here: rule 9100: <frobnicate> is not an element ThreatLockDown evaluates\.$/.test(i.message)), fixed.issues.map((i) => i.message).join('\n'));
});
