/**
 * Deterministic synthetic AWS logs for the demo, the tests and the benchmark: byte-faithful S3 objects
 * (AWS key layouts, gzip, flow-log headers, EventBridge envelopes) with a known ground truth.
 * Spec: the project's formats reference §5. Same seed and options → same keys and bytes.
 */
import { gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { Rng } from './random.js';
import { ACTORS, buildTopology, type RegionNet } from './topology.js';
import { CUSTOM_HEADER, DEFAULT_HEADER, baselineFlows, flowLine, nodataLine, scenarioFlows, type Flow } from './vpcflow.js';
import { actions, envelope, finding, instance, type FindingSpec } from './guardduty.js';
import { noise, record, type CallSpec } from './cloudtrail.js';

export interface CorpusOptions {
  seed: number;
  days: number;
  scale: number;
  /** end of the window (default: start of the current UTC hour) */
  end?: Date;
  /** unit: hourly VPC files, tiny volume; demo/bench: 15-minute files */
  profile?: 'unit' | 'demo' | 'bench';
}

export interface ObjectSink {
  put(key: string, body: Buffer, lastModified: Date): Promise<void>;
}

export interface Scenario {
  id: string;
  description: string;
  from: string;
  to: string;
  attacker?: string;
  victim?: string;
  /**
   * the rule.id of the alerts the scenario raises, as alerts.json (and Wazuh) has it: a GuardDuty type rule
   * (80630…) alerts under its band's Wazuh id (alert_id 80301–80303), a CloudTrail detection under the id Wazuh
   * gives the event (80202, 80203, 80250)
   */
  expectedRules: string[];
  /**
   * groups (rule.groups) that say which detection fired, where the id alone does not: each is carried by an
   * alert of the scenario whose rule.id is one of `expectedRules` (a VPC created is 80202 in aws_vpc_created)
   */
  expectedGroups?: string[];
  keys: string[];
}

export interface GroundTruth {
  seed: number;
  start: string;
  end: string;
  scenarios: Scenario[];
  totals: { objects: Record<string, number>; records: Record<string, number> };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const ymd = (d: Date) => `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`;
const stamp = (d: Date) => `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}Z`;
const iso = (s: number) => new Date(s * 1000).toISOString();

export async function generateCorpus(opts: CorpusOptions, sink: ObjectSink): Promise<GroundTruth> {
  const rng = new Rng(opts.seed);
  const end = opts.end ?? new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
  const endS = Math.floor(end.getTime() / 1000);
  const startS = endS - opts.days * 86_400;
  const windowS = opts.profile === 'unit' ? 3600 : 900;
  const nets = buildTopology(opts.seed);
  const main = nets[0] as RegionNet;
  const totals = { objects: { vpcflow: 0, guardduty: 0, cloudtrail: 0 } as Record<string, number>, records: { vpcflow: 0, guardduty: 0, cloudtrail: 0 } as Record<string, number> };
  const scenarios: Scenario[] = [];
  const put = async (type: string, key: string, body: Buffer, at: Date, records: number) => {
    await sink.put(key, body, at);
    totals.objects[type] = (totals.objects[type] ?? 0) + 1;
    totals.records[type] = (totals.records[type] ?? 0) + records;
  };

  // scenario times: spread over the window, in the main region
  const day = (n: number) => startS + Math.min(n, opts.days - 1) * 86_400;
  const times = {
    portScan: day(0) + 3 * 3600 + 10 * 60,
    sshBruteForce: day(1) + 14 * 3600,
    exfiltration: day(opts.days - 1) + 18 * 3600 - (opts.days === 1 ? 3 * 3600 : 0),
    internalScan: day(0) + 10 * 3600,
  };
  const attack = scenarioFlows(main, times, rng);
  const extra = [...attack.scan, ...attack.brute, ...attack.exfil, ...attack.nearMiss];
  const scenarioKeys = new Map<Flow, string>();

  // ---------------- VPC Flow Logs ----------------
  for (const net of nets) {
    for (const fl of net.flowLogs) {
      for (let w = startS; w < endS; w += windowS) {
        const flows = baselineFlows(net, w, windowS, opts.scale * (opts.profile === 'unit' ? 0.2 : 1) / net.flowLogs.length, rng);
        if (net === main && fl.format === 'default') for (const f of extra) if (f.start >= w && f.start < w + windowS) flows.push(f);
        flows.sort((a, b) => a.start - b.start);
        const lines = [fl.format === 'default' ? DEFAULT_HEADER : CUSTOM_HEADER, ...flows.map((f) => flowLine(f, net, fl.format))];
        const idle = net.hosts.filter((h) => h.role === 'db').slice(1);
        for (const h of idle) lines.push(nodataLine(h, net, w, fl.format));
        const when = new Date(w * 1000);
        const key = `AWSLogs/${net.account}/vpcflowlogs/${net.region}/${ymd(when)}/${net.account}_vpcflowlogs_${net.region}_${fl.id}_${stamp(when)}_${rng.hex(8)}.log.gz`;
        for (const f of flows) if (extra.includes(f)) scenarioKeys.set(f, key);
        const late = rng.chance(0.01) ? 1800 + rng.int(0, 3600) : rng.int(180, 720);
        await put('vpcflow', key, gzipSync(lines.join('\n') + '\n', { level: 6 }), new Date((w + windowS + late) * 1000), lines.length - 1);
      }
    }
  }
  const keysOf = (flows: Flow[]) => [...new Set(flows.map((f) => scenarioKeys.get(f)).filter((k): k is string => !!k))];
  const span = (flows: Flow[]) => ({ from: iso(Math.min(...flows.map((f) => f.start))), to: iso(Math.max(...flows.map((f) => f.end))) });
  const web = main.hosts.find((h) => h.role === 'web');
  const bastion = main.hosts.find((h) => h.role === 'bastion');
  scenarios.push(
    { id: 'vpc-port-scan', description: `${ACTORS.portScanner} scans 1,200 ports of ${web?.ip} in 3 minutes (mostly rejected)`, ...span(attack.scan), attacker: ACTORS.portScanner, victim: web?.ip ?? '', expectedRules: ['80640'], keys: keysOf(attack.scan) },
    { id: 'vpc-ssh-brute-force', description: `${ACTORS.sshBruteForcer} opens 400 short SSH connections to the bastion ${bastion?.ip} in one hour`, ...span(attack.brute), attacker: ACTORS.sshBruteForcer, victim: bastion?.ip ?? '', expectedRules: ['80641'], keys: keysOf(attack.brute) },
    { id: 'vpc-exfiltration', description: `about 4 GB sent to ${ACTORS.exfilDestination}:443 in 30 minutes (a bytes peak)`, ...span(attack.exfil), victim: ACTORS.exfilDestination, expectedRules: [], keys: keysOf(attack.exfil) },
    { id: 'vpc-near-miss-internal-scan', description: 'an internal scanner touching 50 ports: must not raise a port scan', ...span(attack.nearMiss), expectedRules: [], keys: keysOf(attack.nearMiss) },
  );

  // ---------------- GuardDuty through Firehose ----------------
  const detector = rng.hex(32);
  const findings: { at: number; f: Record<string, unknown>; scenario?: string }[] = [];
  const spec = (p: Partial<FindingSpec> & Pick<FindingSpec, 'type' | 'severity' | 'title' | 'action' | 'resource'>, at: number, count = 1): FindingSpec => ({
    id: rng.hex(32),
    description: p.title,
    role: 'TARGET',
    count,
    first: new Date((at - 600) * 1000),
    last: new Date(at * 1000),
    ...p,
  });
  const b = bastion ?? main.hosts[0];
  const w = web ?? main.hosts[0];
  if (b && w) {
    const bruteId = rng.hex(32);
    for (const [k, at] of [times.sshBruteForce + 600, times.sshBruteForce + 2400].entries()) {
      findings.push({ at, scenario: 'gd-ssh-brute-force', f: finding(main, detector, spec({ id: bruteId, type: 'UnauthorizedAccess:EC2/SSHBruteForce', severity: 2, title: `${ACTORS.sshBruteForcer} is performing SSH brute force attacks against ${b.instanceId}.`, action: actions.bruteForce(ACTORS.sshBruteForcer, 22, b), resource: instance(b, main) }, at, k === 0 ? 40 : 310)) });
    }
    findings.push({ at: times.portScan + 900, scenario: 'gd-port-probe', f: finding(main, detector, spec({ type: 'Recon:EC2/PortProbeUnprotectedPort', severity: 2, title: `Unprotected port on EC2 instance ${w.instanceId} is being probed.`, action: actions.portProbe([{ ip: ACTORS.portScanner, port: 22 }, { ip: ACTORS.portScanner, port: 443 }, { ip: '198.51.100.140', port: 8080 }], w), resource: instance(w, main) }, times.portScan + 900, 3)) });
    const win = main.hosts.find((h) => h.role === 'windows') ?? w;
    findings.push({ at: day(opts.days - 1) + 2 * 3600, f: finding(main, detector, spec({ type: 'UnauthorizedAccess:EC2/RDPBruteForce', severity: 2.5, title: `203.0.113.160 is performing RDP brute force attacks against ${win.instanceId}.`, action: actions.bruteForce('203.0.113.160', 3389, win), resource: instance(win, main) }, day(opts.days - 1) + 2 * 3600, 55)) });
    const app = main.hosts.find((h) => h.role === 'app') ?? w;
    const compromised: [string, number, Record<string, unknown>, string][] = [
      ['CryptoCurrency:EC2/BitcoinTool.B!DNS', 8, actions.dns('pool.minexmr.example'), `EC2 instance ${app.instanceId} is querying a domain name that is associated with Bitcoin-related activity.`],
      ['Backdoor:EC2/C&CActivity.B', 7.5, actions.outbound('198.51.100.140', 4444), `EC2 instance ${app.instanceId} is communicating with a known command and control server.`],
      ['Trojan:EC2/DNSDataExfiltration', 8.9, actions.dns('a1b2c3.exfil.example'), `EC2 instance ${app.instanceId} is attempting to query domain names that resemble exfiltrated data.`],
    ];
    compromised.forEach(([type, severity, action, title], i) => {
      const at = times.exfiltration + 600 + i * 300;
      findings.push({ at, scenario: 'gd-compromised-instance', f: finding(main, detector, spec({ type, severity, title, action, resource: instance(app, main), role: 'ACTOR' }, at)) });
    });
    const key = { resourceType: 'AccessKey', accessKeyDetails: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', principalId: 'AIDAEXAMPLE', userName: 'alice', userType: 'IAMUser' } };
    for (const [i, api] of ['DescribeInstances', 'RunInstances', 'CreateKeyPair'].entries()) {
      const at = day(1) + 16 * 3600 + i * 900;
      findings.push({ at, scenario: 'gd-unusual-network', f: finding(main, detector, spec({ type: 'UnauthorizedAccess:IAMUser/TorIPCaller', severity: 5, title: `API ${api} was invoked from a Tor exit node IP address.`, action: actions.apiCall(api, ACTORS.unusualApiCaller), resource: key }, at)) });
    }
    findings.push({ at: day(opts.days - 1) + 5 * 3600, f: finding(main, detector, spec({ type: 'Behavior:EC2/NetworkPortUnusual', severity: 6.9, title: `EC2 instance ${app.instanceId} is communicating on an unusual server port 8443. <script>alert(1)</script>`, action: actions.outbound('203.0.113.160', 8443), resource: instance(app, main) }, day(opts.days - 1) + 5 * 3600)) });
    findings.push({ at: endS - 1800, f: finding(main, detector, spec({ type: 'AttackSequence:IAM/CompromisedCredentials', severity: 9.5, title: 'Potential credential compromise of alice, followed by reconnaissance and persistence.', action: actions.apiCall('CreateAccessKey', ACTORS.unusualApiCaller), resource: key }, endS - 1800)) });
  }
  // baseline port probes from background scanners, a few per day in every account/region
  for (const net of nets) {
    const h = net.hosts.find((x) => x.publicIp);
    if (!h) continue;
    for (let d = 0; d < opts.days; d++) {
      const at = startS + d * 86_400 + rng.int(0, 86_000);
      findings.push({ at, f: finding(net, detector, spec({ type: 'Recon:EC2/PortProbeUnprotectedPort', severity: 2, title: `Unprotected port on EC2 instance ${h.instanceId} is being probed.`, action: actions.portProbe([{ ip: `162.142.125.${rng.int(1, 254)}`, port: rng.pick([22, 80, 3389]) }], h), resource: instance(h, net) }, at, rng.int(1, 500))) });
    }
  }
  findings.sort((a, c) => a.at - c.at);
  const byHour = new Map<number, typeof findings>();
  for (const f of findings) {
    const h = Math.floor(f.at / 3600) * 3600;
    byHour.set(h, [...(byHour.get(h) ?? []), f]);
  }
  const gdScenarioKeys = new Map<string, string[]>();
  let n = 0;
  for (const [hour, list] of byHour) {
    const flushAt = new Date((list[list.length - 1]?.at ?? hour) * 1000 + 60_000);
    const d = new Date(hour * 1000);
    const name = `firehose_guardduty-1-${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}-${pad(d.getUTCHours())}-${pad(flushAt.getUTCMinutes())}-${pad(flushAt.getUTCSeconds())}-${rng.uuid()}`;
    const text = list.map((x) => JSON.stringify(envelope(x.f, rng))).join(n % 5 === 4 ? '\n' : '');
    const kind = n % 10 === 9 ? 'plain' : n % 10 === 8 ? 'zip' : 'gz';
    const body = kind === 'gz' ? gzipSync(text) : kind === 'zip' ? Buffer.from(zipSync({ [name]: [new TextEncoder().encode(text), { mtime: flushAt }] })) : Buffer.from(text);
    const key = `firehose/${ymd(d)}/${pad(d.getUTCHours())}/${name}${kind === 'gz' ? '.gz' : kind === 'zip' ? '.zip' : ''}`;
    for (const x of list) if (x.scenario) gdScenarioKeys.set(x.scenario, [...(gdScenarioKeys.get(x.scenario) ?? []), key]);
    // port probes count one record per probed port
    const records = list.reduce((s, x) => s + (((x.f.service as Record<string, Record<string, unknown>>).action?.portProbeAction as { portProbeDetails?: unknown[] } | undefined)?.portProbeDetails?.length ?? 1), 0);
    await put('guardduty', key, body, flushAt, records);
    n++;
  }
  const gdKeys = (id: string) => [...new Set(gdScenarioKeys.get(id) ?? [])];
  scenarios.push(
    { id: 'gd-ssh-brute-force', description: 'GuardDuty SSH brute force against the bastion, re-emitted with a higher count', from: iso(times.sshBruteForce), to: iso(times.sshBruteForce + 2400), attacker: ACTORS.sshBruteForcer, expectedRules: ['80301'], keys: gdKeys('gd-ssh-brute-force') },
    { id: 'gd-port-probe', description: 'GuardDuty port probe with three probed ports', from: iso(times.portScan), to: iso(times.portScan + 900), attacker: ACTORS.portScanner, expectedRules: ['80305'], keys: gdKeys('gd-port-probe') },
    { id: 'gd-compromised-instance', description: 'bitcoin DNS, C&C and DNS exfiltration findings for one app instance', from: iso(times.exfiltration), to: iso(times.exfiltration + 1800), expectedRules: ['80303'], keys: gdKeys('gd-compromised-instance') },
    { id: 'gd-unusual-network', description: 'EC2 API calls by alice from a Tor exit node', from: iso(day(1) + 16 * 3600), to: iso(day(1) + 17 * 3600), attacker: ACTORS.unusualApiCaller, expectedRules: ['80302'], keys: gdKeys('gd-unusual-network') },
  );

  // ---------------- CloudTrail ----------------
  const calls = new Map<RegionNet, CallSpec[]>();
  const add = (net: RegionNet, c: CallSpec) => calls.set(net, [...(calls.get(net) ?? []), c]);
  for (const net of nets) {
    for (let t = startS; t < endS; t += 300) {
      const k = Math.round(6 * opts.scale * net.weight * (opts.profile === 'unit' ? 0.3 : 1) * (t % 86_400 >= 8 * 3600 && t % 86_400 < 19 * 3600 ? 1 : 0.2));
      for (let i = 0; i < k; i++) add(net, noise(net, new Date((t + rng.int(0, 299)) * 1000), rng));
    }
  }
  const ct = (s: number) => new Date(s * 1000);
  const vpcCreate = (cidr: string) => ({ cidrBlock: cidr, instanceTenancy: 'default' });
  add(main, { time: ct(day(0) + 11 * 3600), source: 'ec2.amazonaws.com', name: 'CreateVpc', who: { type: 'AssumedRole', name: 'infra-pipeline' }, ip: '10.0.5.20', params: vpcCreate('10.20.0.0/16'), response: { vpc: { vpcId: `vpc-0${rng.hex(16)}`, state: 'pending', cidrBlock: '10.20.0.0/16' } } });
  add(main, { time: ct(day(1) + 2 * 3600), source: 'ec2.amazonaws.com', name: 'CreateVpc', who: { type: 'Root', name: 'root' }, ip: ACTORS.consoleAttacker, agent: 'console.ec2.amazonaws.com', params: vpcCreate('172.31.0.0/16'), response: { vpc: { vpcId: `vpc-0${rng.hex(16)}`, state: 'pending', cidrBlock: '172.31.0.0/16' } } });
  const denied = (api: string) => ({ code: 'Client.UnauthorizedOperation', message: `You are not authorized to perform this operation. User: arn:aws:iam::${main.account}:user/dev-intern is not authorized to perform: ec2:${api} because no identity-based policy allows the ec2:${api} action.` });
  for (let i = 0; i < 6; i++) add(main, { time: ct(day(1) + 15 * 3600 + i * 20), source: 'ec2.amazonaws.com', name: i % 3 === 0 ? 'CreateVpc' : i % 3 === 1 ? 'CreateSubnet' : 'RunInstances', who: { type: 'IAMUser', name: 'dev-intern' }, ip: '203.0.113.12', params: vpcCreate('10.99.0.0/16'), error: denied('CreateVpc') });
  const loginT = day(1) + 9 * 3600;
  for (let i = 0; i < 40; i++) add(main, { time: ct(loginT + i * 15), source: 'signin.amazonaws.com', name: 'ConsoleLogin', who: { type: 'IAMUser', name: 'alice' }, ip: ACTORS.consoleAttacker, agent: 'Mozilla/5.0 (X11; Linux x86_64)', params: null, response: { ConsoleLogin: 'Failure' }, extra: { errorMessage: 'Failed authentication', additionalEventData: { MFAUsed: 'No', LoginTo: 'https://console.aws.amazon.com/' } } });
  add(main, { time: ct(loginT + 40 * 15 + 30), source: 'signin.amazonaws.com', name: 'ConsoleLogin', who: { type: 'IAMUser', name: 'alice' }, ip: ACTORS.consoleAttacker, agent: '<img src=x onerror=alert(1)>', params: null, response: { ConsoleLogin: 'Success' }, extra: { additionalEventData: { MFAUsed: 'No' } } });
  add(main, { time: ct(loginT + 3600), source: 'cloudtrail.amazonaws.com', name: 'StopLogging', who: { type: 'IAMUser', name: 'alice' }, ip: ACTORS.consoleAttacker, params: { name: `arn:aws:cloudtrail:${main.region}:${main.account}:trail/org-trail` } });
  add(main, { time: ct(loginT + 3700), source: 'ec2.amazonaws.com', name: 'DeleteFlowLogs', who: { type: 'IAMUser', name: 'alice' }, ip: ACTORS.consoleAttacker, params: { DeleteFlowLogsRequest: { FlowLogId: { tag: 1, content: main.flowLogs[0]?.id } } } });
  add(main, { time: ct(loginT + 3800), source: 'ec2.amazonaws.com', name: 'AuthorizeSecurityGroupIngress', who: { type: 'IAMUser', name: 'alice' }, ip: ACTORS.consoleAttacker, params: { groupId: 'sg-0123456789abcdef0', ipPermissions: { items: [{ ipProtocol: 'tcp', fromPort: 22, toPort: 22, ipRanges: { items: [{ cidrIp: '0.0.0.0/0' }] } }] } } });
  for (let i = 0; i < 30; i++) add(main, { time: ct(loginT + 4000 + i * 3), source: 'ec2.amazonaws.com', name: 'GetPasswordData', who: { type: 'IAMUser', name: 'alice' }, ip: ACTORS.consoleAttacker, params: { instanceId: main.hosts[3]?.instanceId }, error: denied('GetPasswordData') });
  scenarios.push(
    { id: 'ct-vpc-created', description: 'CreateVpc by the infrastructure pipeline and by Root at 02:00', from: iso(day(0) + 11 * 3600), to: iso(day(1) + 2 * 3600), expectedRules: ['80202'], expectedGroups: ['aws_vpc_created'], keys: [] },
    { id: 'ct-unauthorized-vpc', description: 'dev-intern is denied CreateVpc/CreateSubnet/RunInstances six times in two minutes', from: iso(day(1) + 15 * 3600), to: iso(day(1) + 15 * 3600 + 120), expectedRules: ['80203'], expectedGroups: ['aws_vpc_creation_denied'], keys: [] },
    { id: 'ct-console-brute-force', description: `40 failed console logins of alice from ${ACTORS.consoleAttacker}, then a success without MFA`, from: iso(loginT), to: iso(loginT + 630), attacker: ACTORS.consoleAttacker, expectedRules: ['80254', '80255', '80253'], keys: [] },
    { id: 'ct-defence-evasion', description: 'StopLogging and DeleteFlowLogs, SSH opened to the world, GetPasswordData denied 30 times', from: iso(loginT + 3600), to: iso(loginT + 4100), attacker: ACTORS.consoleAttacker, expectedRules: ['80202', '80203'], expectedGroups: ['aws_defense_evasion', 'aws_security_group_opened'], keys: [] },
  );
  for (const [net, list] of calls) {
    list.sort((a, c) => a.time.getTime() - c.time.getTime());
    const byHourCt = new Map<number, CallSpec[]>();
    for (const c of list) {
      const h = Math.floor(c.time.getTime() / 3_600_000) * 3600;
      byHourCt.set(h, [...(byHourCt.get(h) ?? []), c]);
    }
    for (const [hour, hourCalls] of byHourCt) {
      const delivered = new Date((hour + 3600 + rng.int(60, 600)) * 1000);
      const key = `AWSLogs/${net.account}/CloudTrail/${net.region}/${ymd(new Date(hour * 1000))}/${net.account}_CloudTrail_${net.region}_${stamp(new Date((hour + 3600) * 1000))}_${rng.hex(16).toUpperCase()}.json.gz`;
      for (const s of scenarios) if (s.id.startsWith('ct-') && hourCalls.some((c) => c.time.toISOString() >= s.from && c.time.toISOString() <= s.to && c.who.type !== 'AWSService' && c.who.name !== 'ci-deployer')) s.keys.push(key);
      await put('cloudtrail', key, gzipSync(JSON.stringify({ Records: hourCalls.map((c) => record(net, c, rng)) })), delivered, hourCalls.length);
    }
  }
  return { seed: opts.seed, start: iso(startS), end: iso(endS), scenarios, totals };
}
