/**
 * A GuardDuty finding's alert level is never below the level of its severity band (80301–80304): the rules
 * that name a finding type (port probe, brute force, compromised instance, unusual API call…) may raise the
 * level, never lower it, so "level ≥ 10" always shows every high and critical finding. Every band × every
 * kind of finding, built from the real samples.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { AwsEvent } from '../../shared/events.js';
import { decodeBuffer } from '../../decoders/index.js';
import { createAnalyzer, loadRuleset } from '../index.js';
import { SAMPLES_DIR } from '../../../testdata/samples.js';

const ruleset = await loadRuleset({ ruleDirs: [], ruleFiles: [], lists: [], ruleExcludes: [] });
const analyzer = createAnalyzer(ruleset, { logAlertLevel: 3, now: () => new Date('2026-01-01T00:00:00Z') });

function levelOf(id: string): number {
  const rule = ruleset.rules.get(id);
  assert.ok(rule, `rule ${id} is shipped`);
  return rule.level;
}

/** GuardDuty's bands: low 1.0–3.9, medium 4.0–6.9, high 7.0–8.9, critical 9.0–10.0. */
const BANDS = [
  { name: 'low', rule: '80301', severities: [1, 2, 3.9] },
  { name: 'medium', rule: '80302', severities: [4, 5.5, 6.9] },
  { name: 'high', rule: '80303', severities: [7, 8, 8.9] },
  { name: 'critical', rule: '80304', severities: [9, 9.5, 10] },
];

function sample(file: string): AwsEvent {
  const [event] = decodeBuffer(readFileSync(`${SAMPLES_DIR}guardduty/${file}`), { bucketType: 'guardduty', logInfo: { aws_account_alias: '', log_file: file, s3bucket: 'test' } }) as AwsEvent[];
  assert.ok(event, file);
  return event;
}

const RDP = 'real_unauthorizedaccess-ec2-rdpbruteforce_mozilla-2019.json';
/** Each kind of finding, and the group its specific rule puts the alert in (undefined: no specific rule). */
const KINDS: { name: string; file: string; type?: string; group?: string }[] = [
  { name: 'port probe', file: 'real_recon-ec2-portprobeunprotectedport_mozilla-2019.json' },
  { name: 'RDP brute force', file: RDP, group: 'aws_brute_force' },
  { name: 'SSH brute force', file: RDP, type: 'UnauthorizedAccess:EC2/SSHBruteForce', group: 'aws_brute_force' },
  { name: 'bitcoin DNS (compromised instance)', file: 'awssample_cryptocurrency-ec2-bitcointool.b-dns_via-mozilla-2019.json', group: 'aws_compromised_instance' },
  { name: 'backdoor (compromised instance)', file: 'awssample_backdoor-ec2-denialofservice.tcp_via-mozilla-2019.json', group: 'aws_compromised_instance' },
  { name: 'Tor caller (unusual API call)', file: 'awssample_unauthorizedaccess-iamuser-toripcaller_via-mozilla-2019.json', group: 'aws_unusual_api_call' },
  { name: 'attack sequence (API calls)', file: 'awssample_unauthorizedaccess-iamuser-toripcaller_via-mozilla-2019.json', type: 'AttackSequence:IAM/CompromisedCredentials', group: 'aws_unusual_api_call' },
  { name: 'unusual port (no specific rule)', file: RDP, type: 'Behavior:EC2/NetworkPortUnusual' },
];

function analyse(kind: (typeof KINDS)[number], severity: number) {
  const event = structuredClone(sample(kind.file)) as AwsEvent & { aws: Record<string, unknown> };
  event.aws.severity = severity;
  if (kind.type) event.aws.type = kind.type;
  return analyzer.explain(event);
}

for (const band of BANDS) {
  for (const kind of KINDS) {
    test(`${kind.name}, ${band.name} band: level at least the band's, and the finding's own rule`, () => {
      const floor = levelOf(band.rule);
      for (const severity of band.severities) {
        const x = analyse(kind, severity);
        assert.ok(x.rule, `severity ${severity}: no rule matched`);
        assert.ok(x.chain.includes(band.rule), `severity ${severity}: ${x.chain.join(' > ')} does not go through ${band.rule}`);
        assert.ok(x.rule.level >= floor, `severity ${severity}: rule ${x.rule.id} has level ${x.rule.level}, below the ${band.name} band's ${floor}`);
        assert.ok(x.alert, `severity ${severity}: alerted (${x.noAlert ?? ''})`);
        if (kind.group) assert.ok(x.rule.groups.includes(kind.group), `severity ${severity}: rule ${x.rule.id} is in ${kind.group}`);
      }
    });
  }
}

test('the issue: a critical attack sequence outranks a low SSH brute force, and "level ≥ 10" shows it', () => {
  const critical = analyse(KINDS[6] as (typeof KINDS)[number], 9.5).rule;
  const low = analyse(KINDS[2] as (typeof KINDS)[number], 2).rule;
  assert.ok(critical && low);
  assert.ok(critical.level >= 10, `critical finding at level ${critical.level}`);
  assert.ok(critical.level > low.level, `critical ${critical.level} vs low ${low.level}`);
});
