// The alert view (#/alert/<id>): what, who, where, when, the rule and MITRE techniques, triage, the GuardDuty
// finding's history, what happened around it (same addresses or instance, an hour either side), and the raw event
// folded below. Text only.
import { el, panel, table, api, entityLink, fmtTime, fmtBytes, levelCls, pageHref } from './analyst-dom.js';
import { triageBox } from './triage-view.js';

function fact(label, ...value) {
  const shown = value.filter((v) => v !== null && v !== undefined && v !== '');
  if (!shown.length) return null;
  return el('div', { class: 'fact', 'data-fact': label }, el('dt', {}, label), el('dd', {}, ...shown));
}

export const alertLink = (r) => el('a', { class: 'ip', href: pageHref('alert', r.id) }, fmtTime(r.t));

export async function alertPage(id) {
  const d = await api(`/api/alert-view/${encodeURIComponent(id)}`);
  const f = d.facts;
  const head = panel(`Alert ${f.rule.id ?? ''} — level ${f.rule.level ?? '?'}`, 'two-thirds');
  head.append(el('p', { class: `headline ${Number(f.rule.level) >= 10 ? 'lvl-high' : ''}` }, f.what ?? ''));
  const mitre = f.mitre.map((t) => el('a', { href: `https://attack.mitre.org/techniques/${t.replace('.', '/')}/`, target: '_blank', rel: 'noopener noreferrer' }, t));
  head.append(el('dl', { class: 'facts' },
    fact('When', f.when ? `${fmtTime(f.when)} UTC` : null, f.raised ? el('span', { class: 'hint' }, ` (raised ${fmtTime(Date.parse(f.raised))} UTC)`) : null),
    fact('What', f.event, f.findingType ? entityLink('finding-type', f.findingType) : null),
    fact('Who', entityLink('user', f.who)),
    fact('From', entityLink('ip', f.src), f.location ? ` (${f.location})` : null),
    fact('To', entityLink('ip', f.dst), f.dstPort ? ' port ' : null, entityLink('port', f.dstPort)),
    fact('Instance', entityLink('instance', f.instance)),
    fact('ENI', entityLink('eni', f.eni)),
    fact('Account', entityLink('account', f.account), f.region ? ` · ${f.region}` : null),
    fact('Source', f.source),
    fact('Rule', entityLink('rule', f.rule.id), ` level ${f.rule.level ?? '?'}`, f.rule.groups.length ? el('span', { class: 'hint' }, ` · ${f.rule.groups.join(', ')}`) : null),
    fact('MITRE ATT&CK', ...mitre.flatMap((a, i) => (i ? [', ', a] : [a]))),
    fact('Finding', entityLink('finding', f.findingId)),
  ));
  const tri = panel(d.triage.kind === 'finding' ? 'Triage (of the GuardDuty finding)' : 'Triage', 'third');
  await triageBox(tri, d.triage.kind, d.triage.id, d.triage);
  if (d.finding) {
    const h = panel('GuardDuty finding: one finding, updated by GuardDuty', 'wide');
    h.append(el('p', {}, `First seen ${fmtTime(d.finding.first_seen)}, last seen ${fmtTime(d.finding.last_seen)} UTC, count ${d.finding.count}, severity ${d.finding.severity}. `, entityLink('finding', d.finding.id, 'Open the finding')));
    table(h, [{ label: 'Updated at', render: (r) => fmtTime(Date.parse(r.at)) }, { label: 'Severity', key: 'severity' }, { label: 'Count', key: 'count' }], d.finding.history);
  }
  const around = `${fmtTime(d.window.from)} to ${fmtTime(d.window.to)} UTC`;
  table(panel('Related alerts (same addresses or instance)', 'wide', around), [
    { label: 'Time', render: alertLink }, { label: 'Level', key: 'level', cls: levelCls }, { label: 'Rule', render: (r) => entityLink('rule', r.rule_id) },
    { label: 'Source', key: 'source' }, { label: 'Description', key: 'description' }, { label: 'From', render: (r) => entityLink('ip', r.src_ip) }, { label: 'To', render: (r) => entityLink('ip', r.dst_ip) },
  ], d.related.alerts, null, 'No other alert about these addresses or this instance in that hour either side.');
  table(panel('Flows of the same addresses', 'wide', around), [
    { label: 'Start', render: (r) => fmtTime(r.t) }, { label: 'Source', render: (r) => entityLink('ip', r.src) }, { label: 'Port', key: 'sport' },
    { label: 'Destination', render: (r) => entityLink('ip', r.dst) }, { label: 'Port', render: (r) => entityLink('port', r.dport) }, { label: 'Bytes', render: (r) => fmtBytes(r.bytes) },
    { label: 'Action', key: 'action' }, { label: 'ENI', render: (r) => entityLink('eni', r.eni) },
  ], d.related.flows, null, 'No flow of these addresses in that hour either side.');
  const raw = panel('Raw event', 'wide');
  raw.append(el('details', { class: 'raw' }, el('summary', {}, 'Show the whole alert as stored (JSON)'), el('pre', { id: 'raw-json' }, JSON.stringify(d.alert, null, 2))));
}
