/**
 * `tld check-config` says OK only for configurations that then run: it loads the rules and lists the way
 * `tld run-once` does, and refuses empty required values and misspelt options, every problem as FILE:LINE.
 * At run time, rule problems and a data folder in use are one plain message with what to do, no stack trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStateStore } from '../../src/sources/s3/state/file-state-store.js';

const bin = new URL('../../bin/tld.js', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'tld-check-'));
let n = 0;

function tld(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' } });
}

/** A config file (and its folder) from the inner text of <ossec_config>; returns the file. */
function conf(inner: string): string {
  const dir = join(tmp, `c${n++}`);
  mkdirSync(dir);
  const file = join(dir, 'ossec.conf');
  writeFileSync(file, `<ossec_config>\n${inner}\n</ossec_config>\n`);
  return file;
}

const BUCKET = '<wodle name="aws-s3">\n  <bucket type="vpcflow"><name>flow-logs</name><service_endpoint>http://127.0.0.1:9</service_endpoint></bucket>\n</wodle>';
const NO_STACK = /\n\s+at [\w.<]+ \(|unexpected error/;

/** A rule folder with one rule file next to the config. */
function ruleDir(config: string, xml: string, name = 'my-rules'): void {
  const dir = join(config, '..', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'local_rules.xml'), xml);
}

test('check-config loads the rules and lists: a broken rule is FILE:LINE of the rule file, exit 2', () => {
  const file = conf(`${BUCKET}\n<ruleset>\n  <rule_dir>my-rules</rule_dir>\n</ruleset>`);
  ruleDir(file, '<group name="local,">\n  <rule id="100001" level="5">\n    <if_sid>99999999</if_sid>\n    <description>child of nothing</description>\n  </rule>\n\n  <rule id="100002" level="20">\n    <if_sid>80200</if_sid>\n  </rule>\n</group>\n');
  const r = tld('check-config', '-c', file);
  assert.equal(r.status, 2, r.stdout);
  assert.doesNotMatch(r.stdout, /Configuration OK/);
  const rules = join(file, '..', 'my-rules', 'local_rules.xml');
  assert.ok(r.stderr.includes(`${rules}:2: error: <rule>: rule 100001: parent rule 99999999 does not exist`), r.stderr);
  assert.ok(r.stderr.includes(`${rules}:7: error: <rule>: rule 100002: the level attribute must be 0–16`), r.stderr);
  assert.ok(r.stderr.includes(`${rules}:7: error: <rule>: rule 100002: missing <description>`), r.stderr);
  assert.doesNotMatch(r.stderr, NO_STACK);
});

test('check-config: a rule folder, rule file or list that does not exist is an error at its line in the config', () => {
  const file = conf(`${BUCKET}\n<ruleset>\n  <rule_dir>no-such-dir</rule_dir>\n  <rule_include>extra/none.xml</rule_include>\n  <list>lists/bad-ips</list>\n  <rule_exclude>0999-none.xml</rule_exclude>\n</ruleset>`);
  const r = tld('check-config', '-c', file);
  assert.equal(r.status, 2);
  assert.match(r.stderr, new RegExp(`${file}:6: error: <rule_dir>: .*no-such-dir.* not found`));
  assert.match(r.stderr, new RegExp(`${file}:7: error: <rule_include>: .*extra/none\\.xml.* not found`));
  assert.match(r.stderr, new RegExp(`${file}:8: error: <list>: .*lists/bad-ips.* not found`));
  assert.match(r.stderr, new RegExp(`${file}:9: warning: <rule_exclude>: no shipped rule file is named '0999-none\\.xml'`));
  assert.equal(r.stderr.split('\n').filter((l) => /: (error|warning): /.test(l)).length, 4, r.stderr);
});

test('check-config: a rule that uses a list that is not loaded names the rule file and line', () => {
  const file = conf(`${BUCKET}\n<ruleset>\n  <rule_dir>my-rules</rule_dir>\n</ruleset>`);
  ruleDir(file, '<group name="local,">\n  <rule id="100010" level="5">\n    <if_sid>80200</if_sid>\n    <list field="aws.srcaddr" lookup="address_match_key">etc/lists/bad-ips</list>\n    <description>bad ip</description>\n  </rule>\n</group>\n');
  const r = tld('check-config', '-c', file);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /local_rules\.xml:4: error: <rule>: rule 100010: list 'etc\/lists\/bad-ips' is not loaded/);
});

test('check-config: good rules and lists load, and the summary says how many', () => {
  const file = conf(`${BUCKET}\n<ruleset>\n  <rule_dir>my-rules</rule_dir>\n  <list>lists/bad-ips</list>\n</ruleset>`);
  ruleDir(file, '<group name="local,">\n  <rule id="100010" level="5">\n    <if_sid>80200</if_sid>\n    <list field="aws.srcaddr" lookup="address_match_key">lists/bad-ips</list>\n    <description>bad ip</description>\n  </rule>\n</group>\n');
  mkdirSync(join(file, '..', 'lists'));
  writeFileSync(join(file, '..', 'lists', 'bad-ips'), '203.0.113.0/24:\n');
  const r = tld('check-config', '-c', file);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Configuration OK/);
  const shippedLists = readdirSync(new URL('../../src/analysis/ruleset/lists/', import.meta.url), { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).length;
  assert.match(r.stdout, new RegExp(`Rules: \\d+ rules from 2 files, ${shippedLists + 1} CDB lists`));
});

test('check-config: an empty <name> is an error (it used to run as s3://undefined)', () => {
  const file = conf('<wodle name="aws-s3">\n  <bucket type="vpcflow">\n    <name></name>\n  </bucket>\n</wodle>');
  const r = tld('check-config', '-c', file);
  assert.equal(r.status, 2);
  assert.match(r.stderr, new RegExp(`${file}:4: error: <name>: empty value`));
  assert.doesNotMatch(r.stdout + r.stderr, /undefined/);
});

test('check-config: an empty <interval> (and other empty module values) is an error; an empty <path> is ignored with a warning', () => {
  const file = conf('<wodle name="aws-s3">\n  <interval></interval>\n  <run_on_start/>\n  <bucket type="vpcflow">\n    <name>flow-logs</name>\n    <path></path>\n  </bucket>\n</wodle>');
  const r = tld('check-config', '-c', file);
  assert.equal(r.status, 2);
  assert.match(r.stderr, new RegExp(`${file}:3: error: <interval>: empty value`));
  assert.match(r.stderr, new RegExp(`${file}:4: error: <run_on_start>: empty value`));
  assert.match(r.stderr, new RegExp(`${file}:7: warning: <path>: empty value; the option is ignored`));
});

test('check-config: a misspelt option in <global> is an error with "did you mean"; other Wazuh options there are fine', () => {
  const file = conf(`<global>\n  <jsonout_output>yes</jsonout_output>\n  <email_notification>no</email_notification>\n  <logall_jsn>yes</logall_jsn>\n</global>\n${BUCKET}`);
  const r = tld('check-config', '-c', file);
  assert.equal(r.status, 2);
  assert.match(r.stderr, new RegExp(`${file}:5: error: <logall_jsn>: no such option in <global>; did you mean <logall_json>\\?`));
  assert.equal(r.stderr.split('\n').filter((l) => /: (error|warning): /.test(l)).length, 1, r.stderr);
});

test('check-config: an unknown tag in <global> that resembles nothing is a warning; misspelt tags in our own blocks are errors with a hint', () => {
  const file = conf(`<global>\n  <frobnicate>yes</frobnicate>\n</global>\n<wodle name="aws-s3">\n  <intervl>5m</intervl>\n  <bucket type="vpcflow"><name>flow-logs</name><regoins>us-east-1</regoins></bucket>\n</wodle>\n<store>\n  <flow_retention_day>3</flow_retention_day>\n</store>`);
  const r = tld('check-config', '-c', file);
  assert.equal(r.status, 2);
  assert.match(r.stderr, new RegExp(`${file}:3: warning: <frobnicate>: unknown option in <global>`));
  assert.match(r.stderr, new RegExp(`${file}:6: error: <intervl>: no such option in <wodle name="aws-s3">; did you mean <interval>\\?`));
  assert.match(r.stderr, new RegExp(`${file}:7: error: <regoins>: no such option in <bucket type="…">; did you mean <regions>\\?`));
  assert.match(r.stderr, new RegExp(`${file}:10: error: <flow_retention_day>: no such option in <store>; did you mean <flow_retention_days>\\?`));
});

test('run-once with a broken rule: a plain message naming the rule file and what to do, exit 2, no stack trace', () => {
  const file = conf(`${BUCKET}\n<ruleset>\n  <rule_dir>my-rules</rule_dir>\n</ruleset>`);
  ruleDir(file, '<group name="local,">\n  <rule id="100001" level="5">\n    <if_sid>99999999</if_sid>\n    <description>child of nothing</description>\n  </rule>\n</group>\n');
  const r = tld('run-once', '-c', file, '--data-dir', join(file, '..', 'data'), '--no-progress');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^tld: the rules cannot be loaded; .*tld check-config/m);
  assert.match(r.stderr, /local_rules\.xml:2: rule 100001: parent rule 99999999 does not exist/);
  assert.doesNotMatch(r.stderr, NO_STACK);
});

test('run-once and replay on a data folder another tld process holds: one line saying who holds it and what to do, no stack trace', () => {
  const file = conf(BUCKET);
  const dataDir = join(file, '..', 'data');
  const state = openStateStore(join(dataDir, 'state'));
  try {
    for (const args of [['run-once', '--no-progress'], ['replay', '--from', '2024-01-01', '--to', '2024-01-02', '--no-progress']]) {
      const r = tld(...args, '-c', file, '--data-dir', dataDir);
      assert.equal(r.status, 1, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^tld: the state in ${join(dataDir, 'state')} is in use by process ${process.pid}.*; stop it first`, 'm'));
      assert.doesNotMatch(r.stderr, NO_STACK);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  } finally {
    state.close();
  }
});
