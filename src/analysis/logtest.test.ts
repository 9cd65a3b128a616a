import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';

const bin = new URL('../../bin/tld.js', import.meta.url).pathname;
const SAMPLES = new URL('../../testdata/aws-log-samples/', import.meta.url).pathname;
const logtest = (args: string[], input: Buffer | string) => spawnSync(process.execPath, [bin, 'logtest', ...args], { input, encoding: 'utf8' });

test('tld logtest explains a raw compressed CloudTrail file: fields, rule, chain, alert', () => {
  const r = logtest(['--source', 'cloudtrail'], gzipSync(readFileSync(SAMPLES + 'cloudtrail/constructed/createvpc-denied_client-unauthorizedoperation.json')));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\taws\.eventName: 'CreateVpc'/);
  assert.match(r.stdout, /\tid: '80611'\n\talert_id: '80203' \(the rule\.id of its alert, as in Wazuh\)\n\tlevel: '8'\n\tdescription: 'AWS unauthorized VPC creation attempt: arn:aws:iam::111122223333:user\/dev-intern/);
  assert.match(r.stdout, /chain: 80200 > 80202 > 80203 > 80611\n\*\*Alert to be generated\./);
});

test('tld logtest --json on a VPC file with its header: one result per record, flows are not alerted', () => {
  const r = logtest(['--source', 'vpcflow', '--json'], readFileSync(SAMPLES + 'vpcflow/awsdocs_default-v2-examples.log'));
  assert.equal(r.status, 0, r.stderr);
  const results = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(results.length >= 4);
  assert.ok(results.some((x) => x.fields['aws.dstport'] === '22' && x.rule?.id === '80401' && /no_log/.test(x.noAlert)), 'a flow to SSH is 80401, as in Wazuh');
  assert.ok(results.every((x) => x.alert === null));
});

test('tld logtest reads JSON events per line and refuses garbage with the line number', () => {
  const ok = logtest([], '{"integration":"aws","aws":{"source":"guardduty","severity":7.5,"title":"t","type":"Recon:EC2/Portscan"}}\n');
  assert.match(ok.stdout, /id: '80303'/);
  const bad = logtest([], '{"integration":"aws"}\nnot json\n');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /line 2 of stdin is not JSON/);
});

test('tld logtest shows the id the alert carries beside the matched rule: a compromised instance matches 80630 and alerts as 80303', () => {
  const finding = '{"integration":"aws","aws":{"source":"guardduty","severity":8,"title":"Bitcoin","type":"CryptoCurrency:EC2/BitcoinTool.B!DNS","resource":{"instanceDetails":{"instanceId":"i-0abc"}}}}\n';
  const text = logtest([], finding);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /\tid: '80630'\n\talert_id: '80303' \(the rule\.id of its alert, as in Wazuh\)\n\tlevel: '12'/);
  const json = JSON.parse(logtest(['--json'], finding).stdout.trim()) as { rule: { id: string; alertId?: string }; alert: { rule: { id: string } } };
  assert.equal(json.rule.id, '80630');
  assert.equal(json.rule.alertId, '80303');
  assert.equal(json.alert.rule.id, json.rule.alertId, 'the id shown is the one alerts.json gets');
  const own = logtest([], '{"integration":"aws","aws":{"source":"guardduty","severity":7.5,"title":"t","type":"Recon:EC2/Portscan"}}\n');
  assert.doesNotMatch(own.stdout, /alert_id:/, 'a rule that alerts under its own id shows no second id');
});
