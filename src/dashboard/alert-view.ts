/**
 * One alert, read like an alert (issue 15, item 7): what happened, who, where, when, the rule and its MITRE
 * techniques, the raw event (the page folds it), and what happened around it: alerts and flows of the same
 * addresses or instance within RELATED_WINDOW_MS of the event. A GuardDuty alert also brings its finding (one
 * row per finding id with the history of GuardDuty's updates, item 11).
 */
import type { Store } from '../store/index.js';
import { get, eventTime } from '../store/extract.js';
import { ipv4Number } from '../shared/ipv4.js';
import { alertsInRange } from './alert-range.js';

/** how far before and after the event related alerts and flows are looked for */
export const RELATED_WINDOW_MS = 3_600_000;

const T = (i: number) => `make_timestamp($${i}::BIGINT * 1000)`;
const ALERT_TIME = 'coalesce(event_ts, ts)';
type Json = Record<string, unknown>;

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null);

/** The facts an analyst reads first, taken from the alert's event by source (all of them text from the log). */
export function alertFacts(alert: Json) {
  const rule = (alert.rule ?? {}) as Json;
  const aws = (get(alert, 'data.aws') ?? {}) as Json;
  const source = str(aws.source);
  const nics = ([] as unknown[]).concat(get(aws, 'resource.instanceDetails.networkInterfaces') ?? []) as Json[];
  const remote = get(aws, 'service.action.networkConnectionAction.remoteIpDetails') ?? get(aws, 'service.action.portProbeAction.portProbeDetails.remoteIpDetails') ?? get(aws, 'service.action.awsApiCallAction.remoteIpDetails');
  const mitre = get(rule, 'mitre.id') ?? get(rule, 'mitre.technique');
  const when = eventTime({ aws } as Json);
  return {
    what: str(rule.description),
    rule: { id: str(rule.id), level: typeof rule.level === 'number' ? rule.level : null, groups: Array.isArray(rule.groups) ? rule.groups.map(String) : [], firedtimes: rule.firedtimes ?? null },
    mitre: ([] as unknown[]).concat(mitre ?? []).map(String).filter((t) => /^T\d{4}(\.\d{3})?$/.test(t)),
    source,
    when: when,
    raised: str(alert.timestamp),
    who: str(get(aws, 'userIdentity.arn')) ?? str(get(aws, 'userIdentity.userName')) ?? str(get(aws, 'resource.accessKeyDetails.userName')),
    account: str(aws.aws_account_id) ?? str(aws.accountId) ?? str(aws.recipientAccountId) ?? str(aws.account_id),
    region: str(aws.awsRegion) ?? str(aws.region),
    src: str(aws.srcaddr) ?? str(aws.sourceIPAddress) ?? str(get(remote, 'ipAddressV4')),
    dst: str(aws.dstaddr) ?? str(nics[0]?.privateIpAddress),
    srcPort: str(aws.srcport),
    dstPort: str(aws.dstport) ?? str(get(aws, 'service.action.networkConnectionAction.localPortDetails.port')) ?? str(get(aws, 'service.action.portProbeAction.portProbeDetails.localPortDetails.port')),
    instance: str(get(aws, 'resource.instanceDetails.instanceId')),
    eni: str(aws.interface_id) ?? str(nics[0]?.networkInterfaceId),
    findingId: source === 'guardduty' ? str(aws.id) : null,
    findingType: source === 'guardduty' ? str(aws.type) : null,
    event: source === 'cloudtrail' ? [str(aws.eventSource), str(aws.eventName)].filter(Boolean).join(' ') || null : null,
    location: remote ? [str(get(remote, 'city.cityName')), str(get(remote, 'country.countryName'))].filter(Boolean).join(', ') || null : null,
  };
}

/**
 * Addresses as a flows filter: IPv4 numbers computed here (digits only) inline, other text bound from `$first`.
 * Given as single-column conditions (any of them matches), so each can be tested inside DuckDB's scan.
 */
function addressFilter(addresses: string[], first: number): { parts: string[]; params: string[] } {
  const nums = addresses.map(ipv4Number).filter((n) => n >= 0);
  const texts = addresses.filter((a) => ipv4Number(a) < 0);
  const parts: string[] = [];
  if (nums.length) parts.push(`src4 IN (${nums.join(',')})`, `dst4 IN (${nums.join(',')})`);
  texts.forEach((_, i) => parts.push(`src_text = $${first + i}`, `dst_text = $${first + i}`));
  return { parts, params: texts };
}

/**
 * The flows matching any of `parts` in the range, as one branch per condition: branch j keeps the rows where
 * condition j is the first that holds (the ones before it are not TRUE), so every row is in exactly one branch
 * and each branch's conditions are each on one column, which DuckDB tests inside the scan (an OR over two
 * columns is tested only after every flow of the range was read: most of the alert view's time at 100M flows).
 */
function flowsMatchingAny(parts: string[]): string {
  return parts.map((c, j) => `SELECT * FROM flows WHERE ts BETWEEN ${T(1)} AND ${T(2)} AND ${[c, ...parts.slice(0, j).map((b) => `(${b}) IS NOT TRUE`)].join(' AND ')}`).join(' UNION ALL ');
}

export async function alertView(s: Store, id: string) {
  const [row] = await s.query(`SELECT json, epoch_ms(${ALERT_TIME}) AS t FROM alerts WHERE id = $1`, [id]);
  if (!row) return undefined;
  const alert = JSON.parse(String(row.json)) as Json;
  const facts = alertFacts(alert);
  const at = Number(row.t);
  const from = at - RELATED_WINDOW_MS;
  const to = at + RELATED_WINDOW_MS;
  const addresses = [...new Set([facts.src, facts.dst].filter((a): a is string => a !== null))];
  // related alerts: the same addresses (columns) or the same instance (as a whole JSON string), not this one
  const params: (string | number)[] = [from, to, id];
  const or: string[] = [];
  for (const a of addresses) {
    params.push(a);
    or.push(`src_ip = $${params.length} OR dst_ip = $${params.length}`);
  }
  if (facts.instance) {
    params.push(JSON.stringify(facts.instance));
    or.push(`position($${params.length} IN json) > 0`);
  }
  const relatedAlerts = or.length
    ? await s.query(`SELECT id, epoch_ms(ats) AS t, level, rule_id, description, source, src_ip, dst_ip FROM ${alertsInRange(1, 2)}
        WHERE id <> $3 AND (${or.join(' OR ')}) ORDER BY t DESC, id LIMIT 100`, params)
    : [];
  const flowFilter = addressFilter(addresses, 3);
  const relatedFlows = addresses.length
    ? await s.query(`SELECT epoch_ms(f.ts) AS t, ip_text(f.src4, f.src_text) AS src, f.sport, ip_text(f.dst4, f.dst_text) AS dst, f.dport, f.proto, f.bytes, f.action::VARCHAR AS action, i.eni
        FROM (SELECT * FROM (${flowsMatchingAny(flowFilter.parts)}) ORDER BY ts DESC, object_id, idx LIMIT 50) f
        LEFT JOIN flow_interfaces i USING (iface) ORDER BY f.ts DESC, f.object_id, f.idx`, [from, to, ...flowFilter.params])
    : [];
  let finding: Json | null = null;
  if (facts.findingId) {
    const [f] = await s.query(`SELECT id, type, severity, title, epoch_ms(first_seen) AS first_seen, epoch_ms(last_seen) AS last_seen, count, history FROM findings WHERE id = $1`, [facts.findingId]);
    if (f) finding = { ...f, history: JSON.parse(String(f.history)) as unknown };
  }
  return { id, t: at, facts, window: { from, to }, related: { alerts: relatedAlerts, flows: relatedFlows }, finding, alert };
}
