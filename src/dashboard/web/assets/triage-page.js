// The triage queue (#/triage): alerts and GuardDuty findings (one row per finding) in the range with their
// status, filterable by status, severity band, kind and assignee, with the counts ("12 new critical") on top.
import { el, panel, table, api, entityLink, fmtTime, pageHref, STATUS_LABEL } from './analyst-dom.js';

const BANDS = ['critical', 'high', 'medium', 'low'];
const PAGE = 100;

function hashParams() {
  return new URLSearchParams(location.hash.split('?')[1] ?? '');
}

/** "12 new critical · 3 new high …" as links that filter the queue. */
export function countLine(counts) {
  const line = el('p', { class: 'counts', 'data-counts': '' });
  const fresh = BANDS.map((band) => [band, counts.filter((c) => c.status === 'new' && c.band === band).reduce((s, c) => s + c.n, 0)]);
  fresh.forEach(([band, n], i) => line.append(i ? ' · ' : '', el('a', { href: pageHref('triage', undefined, { status: 'new', band }), class: `count band-${band}`, 'data-band': band }, `${n} new ${band}`)));
  const done = counts.filter((c) => c.status !== 'new').reduce((s, c) => s + c.n, 0);
  line.append(` · ${done} triaged`);
  return line;
}

export async function triagePage() {
  const q = hashParams();
  const filter = { status: q.get('status'), band: q.get('band'), kind: q.get('kind'), assignee: q.get('assignee'), offset: q.get('offset') };
  const counts = await api('/api/triage/counts');
  const body = panel('Triage queue: alerts and GuardDuty findings in this time range', 'wide');
  body.append(countLine(counts));
  const form = el('form', { id: 'triage-filter' });
  const select = (name, options) => {
    const s = el('select', { name, 'aria-label': name }, el('option', { value: '' }, `any ${name}`), ...options.map(([v, label]) => el('option', { value: v }, label)));
    s.value = filter[name] ?? '';
    return s;
  };
  const assignee = el('input', { name: 'assignee', placeholder: 'assignee', 'aria-label': 'assignee' });
  assignee.value = filter.assignee ?? '';
  form.append(select('status', Object.entries(STATUS_LABEL)), ' ', select('band', BANDS.map((b) => [b, b])), ' ', select('kind', [['alert', 'alerts'], ['finding', 'findings']]), ' ', assignee, ' ', el('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = pageHref('triage', undefined, Object.fromEntries(['status', 'band', 'kind', 'assignee'].map((n) => [n, form.elements[n].value])));
  });
  body.append(form);
  const d = await api('/api/triage', { ...filter, limit: PAGE });
  const offset = Number(filter.offset ?? 0);
  const nav = el('p', { class: 'pager', 'data-total': String(d.total) }, d.total ? `${offset + 1}–${offset + d.rows.length} of ${d.total}` : '0 of 0');
  const pageLink = (label, to) => el('a', { href: pageHref('triage', undefined, { ...filter, offset: to }) }, label);
  if (offset > 0) nav.append(' · ', pageLink('newer', Math.max(0, offset - PAGE)));
  if (offset + d.rows.length < d.total) nav.append(' · ', pageLink('older', offset + PAGE));
  body.append(nav);
  table(body, [
    { label: 'Time', render: (r) => el('a', { class: 'ip', href: r.kind === 'alert' ? pageHref('alert', r.id) : pageHref('finding', r.id) }, fmtTime(r.t)) },
    { label: 'Kind', key: 'kind' },
    { label: 'Severity', render: (r) => `${r.band} (${r.severity})`, cls: (r) => (r.band === 'critical' || r.band === 'high' ? 'lvl-high' : '') },
    { label: 'Rule / type', render: (r) => entityLink(r.kind === 'alert' ? 'rule' : 'finding-type', r.what) },
    { label: 'Description', key: 'title' },
    { label: 'Address', render: (r) => entityLink('ip', r.ip) },
    { label: 'Updates', render: (r) => (r.kind === 'finding' ? `${r.updates} (count ${r.count})` : '') },
    { label: 'Status', render: (r) => el('span', { class: `status status-${r.status}`, 'data-status': r.status }, STATUS_LABEL[r.status] ?? r.status) },
    { label: 'Assignee', key: 'assignee' },
  ], d.rows, (r) => (location.hash = r.kind === 'alert' ? pageHref('alert', r.id) : pageHref('finding', r.id)), 'Nothing matches in this time range.');
}
