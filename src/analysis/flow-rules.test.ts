/**
 * `analyzeFlows` over FlowBatches against `analyze` over the events of the reference decoder (decode.ts): random
 * corpora (REJECTs, port scans, brute force to 22/3389, NODATA, discarded and bad lines, several headers, absent
 * fields, objects re-read with and without being taken back) through both paths, with the shipped ruleset and
 * with user rules exercising every kind of condition. The alert streams must be equal (JSON of each alert but
 * its timestamp), and so must the correlation state each path saves (the file's bytes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alert, AwsEvent, ObjectRef } from '../shared/events.js';
import type { DecodeContext } from '../decoders/decoder.js';
import { VpcFlowDecoder } from '../decoders/vpcflow/decode.js';
import { VpcColumnDecoder } from '../decoders/vpcflow/column-decoder.js';
import { createAnalyzer, loadRuleset, type Analyzer, type CompiledRuleset } from './index.js';
import { seededRandom } from '../../tests/helpers/seeded-random.js';

const T0 = Date.parse('2025-06-26T18:00:00Z') / 1000;
const NOW = () => new Date('2026-01-01T00:00:00Z');
const HEADERS = [
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status',
  'version srcaddr dstaddr srcport dstport protocol start end type packets bytes account-id vpc-id subnet-id instance-id interface-id region az-id sublocation-type sublocation-id action tcp-flags pkt-srcaddr pkt-dstaddr pkt-src-aws-service pkt-dst-aws-service traffic-path flow-direction log-status',
  'interface-id srcaddr dstaddr dstport srcport protocol start end action log-status tcp-flags bytes',
  // a key twice: only the whole event says which value a record keeps
  'version interface-id srcaddr dstaddr dstaddr srcport dstport protocol bytes start end action log-status',
];


interface Flow {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  proto: number;
  start: number;
  action: string;
  bytes: number;
  flags: number;
  eni: string;
}

/** One object's text: background traffic, port scans, brute force, NODATA, bad and discardable lines. */
function objectText(r: () => number, base: number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  // addresses the column path keys by their number, and text it keys as text (IPv6, a leading zero)
  const srcs = ['203.0.113.50', '198.51.100.23', '10.1.4.4', '10.2.3.9', '192.0.2.7', '172.16.0.3', '2001:db8::7'];
  const dsts = ['10.0.1.5', '10.0.1.208', '10.0.2.2', '010.0.1.5'];
  const enis = ['eni-0aaa', 'eni-1', 'eni-2', 'eni-3b'];
  const flows: Flow[] = [];
  const flow = (f: Partial<Flow>): Flow => ({ src: pick(srcs), dst: pick(dsts), sport: 1024 + Math.floor(r() * 60000), dport: pick([22, 3389, 80, 443, 8080, 53, 123456]), proto: pick([6, 6, 17, 1]), start: base + Math.floor(r() * 600), action: r() < 0.5 ? 'REJECT' : 'ACCEPT', bytes: Math.floor(r() * 9000), flags: pick([2, 18, 3]), eni: pick(enis), ...f });
  const n = 20 + Math.floor(r() * 150);
  for (let i = 0; i < n; i++) flows.push(flow({}));
  if (r() < 0.6) {
    // a port scan: one source, many rejected ports within seconds
    const src = pick(srcs);
    const dst = pick(dsts);
    const at = base + Math.floor(r() * 300);
    const ports = 60 + Math.floor(r() * 120);
    for (let p = 0; p < ports; p++) flows.push(flow({ src, dst, dport: 1000 + p, action: 'REJECT', start: at + Math.floor(p / 3) }));
  }
  if (r() < 0.6) {
    const src = pick(srcs);
    const dst = pick(dsts);
    const dport = pick([22, 3389]);
    const at = base + Math.floor(r() * 300);
    const tries = 10 + Math.floor(r() * 25);
    for (let k = 0; k < tries; k++) flows.push(flow({ src, dst, dport, start: at + k * 7 }));
  }
  // roughly, not strictly, in time order
  flows.sort((a, b) => a.start - b.start + (r() - 0.5) * 40);
  let header = pick(HEADERS);
  const lines = [header];
  for (const f of flows) {
    if (r() < 0.02) {
      header = pick(HEADERS);
      lines.push(header);
    }
    if (r() < 0.03) lines.push(`2 111111111111 ${f.eni} - - - - - - - ${f.start} ${f.start + 60} - NODATA`.split(' ').slice(0, header.split(' ').length).join(' '));
    if (r() < 0.02) lines.push(`2 x ${f.src}`);
    const values: Record<string, string> = {
      version: '2', 'account-id': '111111111111', 'interface-id': f.eni, srcaddr: f.src, dstaddr: r() < 0.1 ? '-' : f.dst, srcport: String(f.sport), dstport: String(f.dport),
      protocol: String(f.proto), packets: '3', bytes: String(f.bytes), start: r() < 0.03 ? '-' : String(f.start), end: String(f.start + 30), action: f.action, 'log-status': 'OK',
      type: 'IPv4', 'vpc-id': 'vpc-1', 'subnet-id': 'subnet-1', 'instance-id': '-', region: 'us-east-1', 'az-id': 'use1-az1', 'sublocation-type': '-', 'sublocation-id': '-',
      'tcp-flags': String(f.flags), 'pkt-srcaddr': f.src, 'pkt-dstaddr': f.dst, 'pkt-src-aws-service': '-', 'pkt-dst-aws-service': '-', 'traffic-path': '-', 'flow-direction': 'ingress',
    };
    const names = header.split(' ');
    lines.push(names.map((name, i) => (name === 'dstaddr' && names.indexOf(name) !== i ? pick([f.dst, '-', '10.9.9.9']) : values[name])).join(' '));
  }
  return lines.join('\n') + '\n';
}

const USER_RULES = `<group name="local,">
  <rule id="80401" level="3" overwrite="yes">
    <if_sid>80400</if_sid>
    <field name="aws.action">^ACCEPT$</field>
    <description>Accepted: $(aws.srcaddr) to $(aws.dstaddr):$(aws.dstport) at $(aws.start).</description>
    <group>aws_vpcflow,</group>
  </rule>
  <rule id="100001" level="5">
    <if_sid>80402</if_sid>
    <field name="aws.interface_id" negate="yes">eni-0</field>
    <field name="aws.dstport" type="pcre2">^(80|443|8080)$</field>
    <description>Rejected web flow on $(aws.interface_id) to port $(aws.dstport).</description>
  </rule>
  <rule id="100005" level="9" frequency="4" timeframe="120" timefield="aws.end">
    <if_matched_sid>100001</if_matched_sid>
    <same_field>aws.interface_id</same_field>
    <different_field>aws.srcport</different_field>
    <description>$(distinct) source ports on $(aws.interface_id) from $(window_start).</description>
  </rule>
  <rule id="100002" level="7">
    <if_sid>80401,80402</if_sid>
    <list field="aws.srcaddr" lookup="address_match_key">bad-ips</list>
    <description>Flow from listed $(aws.srcaddr).</description>
  </rule>
  <rule id="100003" level="6">
    <if_sid>80400</if_sid>
    <match>NODATA</match>
    <description>No data on $(aws.interface_id).</description>
  </rule>
  <rule id="100004" level="4">
    <if_sid>80401</if_sid>
    <regex negate="yes">"protocol":6\\D</regex>
    <field name="aws.bytes" type="number">&gt;5000</field>
    <description>Large non-TCP flow: $(aws.bytes) bytes.</description>
  </rule>
  <rule id="100006" level="3">
    <if_sid>80402</if_sid>
    <field name="aws.log_info.log_file">special</field>
    <field name="aws.aws_account_id">^1111</field>
    <description>Rejected in a special file.</description>
  </rule>
  <rule id="100007" level="3">
    <if_sid>80401</if_sid>
    <field name="aws.start">T18:0\\d:</field>
    <field name="aws.protocol">^17$</field>
    <description>UDP early: $(aws.start).</description>
  </rule>
  <rule id="100008" level="3">
    <if_sid>80402</if_sid>
    <field name="aws" type="pcre2">"tcp_flags":2[,}]</field>
    <description>SYN only.</description>
  </rule>
  <rule id="100009" level="8">
    <if_sid>80401,80402</if_sid>
    <field name="aws.dstport">^22$|^3389$</field>
    <list field="aws.interface_id" lookup="not_match_key">known-enis</list>
    <field name="aws.dstaddr" negate="yes">^10.0.2.</field>
    <description>SSH/RDP on an unknown interface: $(aws.interface_id).</description>
  </rule>
  <rule id="100010" level="10" frequency="3" timeframe="60">
    <if_matched_sid>100009</if_matched_sid>
    <same_field>aws.srcaddr</same_field>
    <same_field>aws.log_info.log_file</same_field>
    <description>Repeated SSH/RDP from $(aws.srcaddr).</description>
  </rule>
  <rule id="100011" level="5" frequency="8" timeframe="300">
    <if_matched_sid>100007</if_matched_sid>
    <description>Many early UDP flows (no same_field: one window for all).</description>
  </rule>
  <rule id="100012" level="8" noalert="1">
    <if_sid>80402</if_sid>
    <location>Wazuh-AWS</location>
    <field name="aws.srcport" negate="yes">^0$</field>
    <description>Rejected (leads to 100013 only).</description>
  </rule>
  <rule id="100013" level="6">
    <if_sid>100012</if_sid>
    <list field="aws.srcaddr" lookup="address_match_key_value" check_value="scan">bad-ips</list>
    <weekday>!saturday</weekday>
    <description>Rejected from a listed scanner $(aws.srcaddr).</description>
  </rule>
  <rule id="100014" level="12">
    <if_sid>80401</if_sid>
    <srcip>10.0.0.0/8</srcip>
    <description>Never: AWS events have no static srcip.</description>
  </rule>
</group>
`;

async function rulesets(): Promise<{ name: string; rs: CompiledRuleset }[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tld-flow-rules-'));
  mkdirSync(join(dir, 'rules'));
  writeFileSync(join(dir, 'bad-ips'), '10.1.:internal\n10.2.3.0/24:lab\n203.0.113.50:scanner\n');
  writeFileSync(join(dir, 'known-enis'), 'eni-1:\neni-2:\n');
  writeFileSync(join(dir, 'rules', 'local.xml'), USER_RULES);
  return [
    { name: 'shipped', rs: await loadRuleset({ ruleDirs: [], ruleFiles: [], lists: [], ruleExcludes: [] }) },
    { name: 'shipped + user rules', rs: await loadRuleset({ ruleDirs: [join(dir, 'rules')], ruleFiles: [], lists: [join(dir, 'bad-ips'), join(dir, 'known-enis')], ruleExcludes: [] }) },
  ];
}

type Path = (a: Analyzer, object: ObjectRef, bytes: Buffer, ctx: DecodeContext, r: () => number, out: Alert[]) => void;

/** The reference: events of decode.ts through `analyze`, in the batches its pushes give. */
const viaEvents: Path = (a, object, bytes, ctx, r, out) => {
  const d = new VpcFlowDecoder(ctx);
  let first = 0;
  const take = (events: AwsEvent[]) => {
    a.analyze({ object, firstIndex: first, events }, (x) => out.push(x));
    first += events.length;
  };
  const piece = 1 + Math.floor(r() * bytes.length);
  for (let at = 0; at < bytes.length; at += piece) take(d.push(bytes.subarray(at, at + piece)));
  take(d.end());
};

const viaColumns: Path = (a, object, bytes, ctx, r, out) => {
  const d = new VpcColumnDecoder(ctx, { batchRows: 1 + Math.floor(r() * 200) });
  const piece = 1 + Math.floor(r() * bytes.length);
  for (let at = 0; at < bytes.length; at += piece) for (const b of d.push(bytes.subarray(at, at + piece))) a.analyzeFlows(object, b, (x) => out.push(x));
  for (const b of d.end()) a.analyzeFlows(object, b, (x) => out.push(x));
};

/** Each object through one path or the other: windows count the records of both alike (window-key.ts). */
const viaEither: Path = (a, object, bytes, ctx, r, out) => (r() < 0.5 ? viaEvents : viaColumns)(a, object, bytes, ctx, r, out);

/** Runs a random sequence of objects through one path; returns its alerts and its saved correlation state. */
async function run(rs: CompiledRuleset, seed: number, path: Path): Promise<{ alerts: string[]; state: string; errors: number }> {
  const r = seededRandom(seed);
  const pathR = seededRandom(seed ^ 0x5bd1e995);
  const dir = mkdtempSync(join(tmpdir(), 'tld-flow-corr-'));
  const a = createAnalyzer(rs, { logAlertLevel: 3, now: NOW, managerName: 'm', correlationDir: dir, maxKeysPerRule: 40 });
  await a.restoreCorrelation(0);
  const out: Alert[] = [];
  let errors = 0;
  let seq = 0;
  const objects = 3 + Math.floor(r() * 4);
  for (let k = 0; k < objects; k++) {
    const file = r() < 0.3 ? 'special' : `k${k}`;
    const object: ObjectRef = { bucket: 'b', key: file, objectId: `o${k}`, bucketType: 'vpcflow', size: 0 };
    const ctx: DecodeContext = { bucketType: 'vpcflow', logInfo: { aws_account_alias: '', log_file: file, s3bucket: 'b' }, ...(r() < 0.7 ? { accountId: '111111111111' } : {}), onRecordError: () => errors++, ...(r() < 0.5 ? { discard: { field: 'srcaddr', regex: '192\\.0\\.2\\.' } } : {}) };
    const bytes = Buffer.from(objectText(r, T0 + k * 200));
    path(a, object, bytes, ctx, pathR, out);
    const again = r();
    if (again < 0.15) path(a, object, bytes, ctx, pathR, out); // read again without being taken back: counts once
    else if (again < 0.3) {
      a.discardObject(object.objectId); // an abandoned read: taken back, read again
      path(a, object, bytes, ctx, pathR, out);
    }
    a.objectDone(object.objectId, ++seq);
    if (r() < 0.5) await a.persistCorrelation(seq, seq - 1);
  }
  await a.persistCorrelation(seq, seq);
  await a.closeCorrelation();
  const alerts = out.map(({ timestamp: _t, ...rest }) => JSON.stringify(rest));
  return { alerts, state: readFileSync(join(dir, 'correlation.jsonl'), 'utf8'), errors };
}

test('analyzeFlows gives exactly the alerts and the correlation state analyze gives, shipped rules and user rules, random corpora, each path alone or the two mixed object by object', async () => {
  const sets = await rulesets();
  let alerts = 0;
  const rules = new Set<string>();
  for (const { name, rs } of sets) {
    for (let seed = 1; seed <= 40; seed++) {
      const want = await run(rs, seed, viaEvents);
      for (const [pathName, path] of [['columns', viaColumns], ['either', viaEither]] as const) {
        const got = await run(rs, seed, path);
        const at = `${name}, seed ${seed}, ${pathName}`;
        assert.equal(got.errors, want.errors, `${at}: record errors`);
        assert.equal(got.alerts.length, want.alerts.length, `${at}: alert count`);
        for (let i = 0; i < want.alerts.length; i++) assert.equal(got.alerts[i], want.alerts[i], `${at}: alert ${i}`);
        assert.equal(got.state, want.state, `${at}: saved correlation state`);
      }
      alerts += want.alerts.length;
      for (const a of want.alerts) rules.add((JSON.parse(a) as Alert).rule.id);
    }
  }
  // the corpora reach every alerting rule, so each kind of condition was compared
  assert.deepEqual([...rules].sort(), ['100001', '100002', '100003', '100004', '100005', '100006', '100007', '100008', '100009', '100010', '100011', '100013', '80401', '80640', '80641']);
  assert.ok(alerts > 1000, `alerts compared: ${alerts}`);
});
