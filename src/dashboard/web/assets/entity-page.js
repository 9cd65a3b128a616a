// Entity pages (#/instance/…, #/eni/…, #/account/…, #/user/…, #/port/…, #/finding/…, #/finding-type/…,
// #/rule/…): its alerts, findings, flows, timeline and peers in the range, like the IP page. Text only.
import { el, panel, table, api, chart, entityLink, fmtTime, fmtBytes, levelCls, BAND_COLOURS } from './analyst-dom.js';
import { alertLink } from './alert-page.js';
import { triageBox } from './triage-view.js';

export const ENTITY_LABEL = { instance: 'instance', eni: 'network interface', account: 'account', user: 'user', port: 'port', finding: 'GuardDuty finding', 'finding-type': 'finding type', rule: 'rule' };

const findingLink = (r) => entityLink('finding', r.id, fmtTime(r.last_seen));

function timeline(body, d) {
  const bands = ['low', 'medium', 'high', 'critical'];
  const times = [...new Set([...d.alertTimeline, ...d.findingTimeline].map((r) => Number(r.t)))].sort((a, b) => a - b);
  const sum = (rows, k, t) => rows.filter((r) => r.k === k && Number(r.t) === t).reduce((s, r) => s + Number(r.n), 0);
  const series = [
    ...bands.filter((k) => d.alertTimeline.some((r) => r.k === k)).map((k) => ({ name: `alerts: ${k}`, type: 'bar', stack: 'alerts', itemStyle: { color: BAND_COLOURS[k] }, data: times.map((t) => [t, sum(d.alertTimeline, k, t)]) })),
    ...bands.filter((k) => d.findingTimeline.some((r) => r.k === k)).map((k) => ({ name: `findings: ${k}`, type: 'bar', stack: 'findings', itemStyle: { color: BAND_COLOURS[k], opacity: 0.55 }, data: times.map((t) => [t, sum(d.findingTimeline, k, t)]) })),
  ];
  const yAxis = [{ type: 'value', minInterval: 1, name: 'alerts, findings' }];
  if (d.hasFlows && d.flowTimeline?.length) {
    yAxis.push({ type: 'value', name: 'bytes', axisLabel: { formatter: (v) => fmtBytes(v) } });
    series.push({ name: 'flow bytes', type: 'line', showSymbol: false, yAxisIndex: 1, data: d.flowTimeline.map((r) => [Number(r.t), Number(r.bytes)]) });
  }
  if (!series.length) return body.append(el('div', { class: 'empty' }, 'Nothing in this time range.'));
  chart(body, { legend: { top: 0, type: 'scroll', textStyle: { color: '#aab' } }, grid: { left: 60, right: 70, top: 40, bottom: 30 }, xAxis: { type: 'time' }, yAxis, series });
}

export async function entityPage(kind, value) {
  const d = await api(`/api/entity/${encodeURIComponent(kind)}/${encodeURIComponent(value)}`);
  const head = panel(`Everything about ${ENTITY_LABEL[kind] ?? kind} ${value}`, kind === 'finding' ? 'two-thirds' : 'wide');
  const fs = d.flowSummary;
  head.append(el('p', { class: 'summary' }, `${d.alertCount} alerts, ${d.findings.length} findings`,
    d.hasFlows ? `, ${fs.flows ?? 0} flows, ${fmtBytes(fs.bytes)}, ${fs.rejected ?? 0} rejected${fs.first ? `, from ${fmtTime(fs.first)} to ${fmtTime(fs.last)}` : ''}` : '', ' in this time range.',
    d.hasFlows ? '' : el('span', { class: 'hint' }, ' Flow logs do not name this kind of entity.'),
    kind === 'finding' && d.hasFlows ? el('span', { class: 'hint' }, ` Flows: its remote address while the finding was active (an hour either side), ${fmtTime(d.flowWindow.from)} to ${fmtTime(d.flowWindow.to)}.`) : ''));
  if (kind === 'instance') {
    head.append(el('p', {}, 'Network interfaces (from GuardDuty): ', ...(d.facts.enis.length ? d.facts.enis.flatMap((e, i) => [i ? ', ' : '', entityLink('eni', e)]) : ['none known']),
      '. Private addresses: ', ...(d.facts.addresses.length ? d.facts.addresses.flatMap((a, i) => [i ? ', ' : '', entityLink('ip', a)]) : ['none known']), '.'));
  }
  if (kind === 'finding') {
    const f = d.facts.finding;
    if (f) {
      head.append(el('p', { class: 'headline' }, f.title ?? ''), el('p', {}, entityLink('finding-type', f.type), ` · severity ${f.severity} · count ${f.count} · first seen ${fmtTime(f.first_seen)}, last seen ${fmtTime(f.last_seen)} UTC · `,
        entityLink('instance', f.instance_id), f.instance_id ? ' · ' : '', entityLink('user', f.user_name), f.user_name ? ' · ' : '', 'from ', entityLink('ip', f.remote_ip), f.country ? ` (${[f.city, f.country].filter(Boolean).join(', ')})` : '', ' · ', entityLink('account', f.account)));
      const tri = panel('Triage', 'third');
      await triageBox(tri, 'finding', value, await api(`/api/triage/finding/${encodeURIComponent(value)}`));
      table(panel('History: each update GuardDuty sent for this finding', 'wide'), [{ label: 'Updated at', render: (r) => fmtTime(Date.parse(r.at)) }, { label: 'Severity', key: 'severity' }, { label: 'Count', key: 'count' }], d.facts.history);
    } else head.append(el('p', { class: 'empty' }, 'No finding with this id in the store.'));
  }
  timeline(panel('Timeline', 'wide'), d);
  table(panel('Alerts', 'wide', d.alertCount > d.alerts.length ? `${d.alerts.length} newest of ${d.alertCount}` : undefined), [
    { label: 'Time', render: alertLink }, { label: 'Level', key: 'level', cls: levelCls }, { label: 'Rule', render: (r) => entityLink('rule', r.rule_id) }, { label: 'Source', key: 'source' },
    { label: 'Description', key: 'description' }, { label: 'From', render: (r) => entityLink('ip', r.src_ip) }, { label: 'To', render: (r) => entityLink('ip', r.dst_ip) }, { label: 'Account', render: (r) => entityLink('account', r.account) },
  ], d.alerts);
  if (kind !== 'finding' || d.findings.length > 1) {
    table(panel('GuardDuty findings (one row per finding, with its updates)', 'wide'), [
      { label: 'Last seen', render: findingLink }, { label: 'Severity', key: 'severity', cls: (r) => (Number(r.severity) >= 7 ? 'lvl-high' : '') }, { label: 'Type', render: (r) => entityLink('finding-type', r.type) },
      { label: 'Instance', render: (r) => entityLink('instance', r.instance_id) }, { label: 'User', render: (r) => entityLink('user', r.user_name) }, { label: 'Remote', render: (r) => entityLink('ip', r.remote_ip) },
      { label: 'Port', render: (r) => entityLink('port', r.port) }, { label: 'Count', key: 'count' }, { label: 'Updates', key: 'updates' },
    ], d.findings);
  }
  table(panel('Addresses named in its alerts and findings', d.hasFlows ? 'third' : 'wide'), [{ label: 'Address', render: (r) => entityLink('ip', r.ip) }, { label: 'Times', key: 'n' }], d.addresses);
  if (d.hasFlows) {
    table(panel('Peers: top address pairs by bytes', 'two-thirds'), [{ label: 'Source', render: (r) => entityLink('ip', r.src) }, { label: 'Destination', render: (r) => entityLink('ip', r.dst) }, { label: 'Bytes', render: (r) => fmtBytes(r.bytes) }, { label: 'Flows', key: 'flows' }], d.peers);
    table(panel('Flows (newest first)', 'wide'), [
      { label: 'Start', render: (r) => fmtTime(r.t) }, { label: 'Source', render: (r) => entityLink('ip', r.src) }, { label: 'Port', key: 'sport' }, { label: 'Destination', render: (r) => entityLink('ip', r.dst) },
      { label: 'Port', render: (r) => entityLink('port', r.dport) }, { label: 'Bytes', render: (r) => fmtBytes(r.bytes) }, { label: 'Action', key: 'action' }, { label: 'ENI', render: (r) => entityLink('eni', r.eni) }, { label: 'Account', render: (r) => entityLink('account', r.account) },
    ], d.flows);
  }
}
