// ThreatLockDown dashboard. Every value shown comes from logs an attacker can influence, so it is only ever
// set with textContent / DOM APIs, and charts draw text on canvas (tooltips in richText mode), never as HTML.
import { analystPages, attackMap, entityLink, pageHref, refreshTriageBadge, useRange } from './analyst.js';

const main = document.getElementById('main');
const charts = [];
let dataRange = null;

// ---------- state in the URL: #/page?from=…&to=… ----------
function parseHash() {
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(query ?? '');
  const parts = (path || '/overview').split('/').filter(Boolean);
  return { page: parts[0] ?? 'overview', arg: parts[1] ? decodeURIComponent(parts[1]) : undefined, params };
}
function go(page, arg, changes = {}) {
  const { params } = parseHash();
  for (const [k, v] of Object.entries(changes)) v === undefined ? params.delete(k) : params.set(k, String(v));
  location.hash = `#/${page}${arg ? `/${encodeURIComponent(arg)}` : ''}${params.size ? `?${params}` : ''}`;
}
function currentRange() {
  const { params } = parseHash();
  const max = dataRange?.max ?? Date.now();
  const min = dataRange?.min ?? max - 7 * 86400000;
  const from = Number(params.get('from') ?? min);
  const to = Number(params.get('to') ?? max);
  return { from, to };
}

// ---------- small DOM helpers (text only) ----------
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'onclick') e.addEventListener('click', v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
function panel(title, size = '', hint) {
  const body = el('div');
  const p = el('section', { class: `panel ${size}`, 'data-panel': title }, el('h2', {}, title), hint ? el('div', { class: 'hint' }, hint) : null, body);
  main.append(p);
  return body;
}
const fmtTime = (t) => (t === null || t === undefined ? '' : new Date(Number(t)).toISOString().replace('T', ' ').slice(0, 19));
const fmtBytes = (b) => {
  const n = Number(b);
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;
};
/** A link to everything about an address, keeping the time range in view. */
function ipLink(ip) {
  if (!ip) return '';
  const { params } = parseHash();
  const range = new URLSearchParams([...params].filter(([k]) => k === 'from' || k === 'to'));
  return el('a', { class: 'ip', href: `#/ip/${encodeURIComponent(ip)}${range.size ? `?${range}` : ''}`, 'data-ip': ip }, ip);
}
function table(body, columns, rows, onRow) {
  if (!rows.length) return body.append(el('div', { class: 'empty' }, 'Nothing in this time range.'));
  const t = el('table', {}, el('thead', {}, el('tr', {}, ...columns.map((c) => el('th', {}, c.label)))));
  const tb = el('tbody');
  for (const r of rows) {
    const tr = el('tr', onRow ? { class: 'clickable' } : {}, ...columns.map((c) => el('td', c.cls ? { class: c.cls(r) } : {}, c.render ? c.render(r) : r[c.key] ?? '')));
    if (onRow) tr.addEventListener('click', (e) => { if (!e.target.closest('a')) onRow(r); });
    tb.append(tr);
  }
  t.append(tb);
  body.append(t);
}
function chart(body, option, tall = false) {
  const box = el('div', { class: `chart${tall ? ' tall' : ''}` });
  body.append(box);
  const c = echarts.init(box, 'dark', { renderer: 'canvas' });
  c.setOption({ backgroundColor: 'transparent', tooltip: { trigger: 'axis', renderMode: 'richText' }, grid: { left: 60, right: 20, top: 30, bottom: 30 }, ...option });
  charts.push(c);
  return c;
}
/** Stacked series from rows {t, k, n}. */
const BANDS = { 'low (≤4)': '#5b8ff9', 'medium (5–7)': '#f6bd16', 'high (8–11)': '#ff8a3d', 'critical (12+)': '#e8384f', low: '#5b8ff9', medium: '#f6bd16', high: '#ff8a3d', critical: '#e8384f' };
function stacked(rows, type = 'bar') {
  const present = new Set(rows.map((r) => r.k));
  // severity bands keep their order and colour (low → critical); other keys in order of appearance
  const keys = [...Object.keys(BANDS).filter((k) => present.has(k)), ...[...present].filter((k) => !(k in BANDS))];
  const times = [...new Set(rows.map((r) => Number(r.t)))].sort((a, b) => a - b);
  return {
    legend: { top: 0, textStyle: { color: '#aab' } },
    xAxis: { type: 'time' },
    yAxis: { type: 'value' },
    series: keys.map((k) => ({ name: k, type, stack: 'all', ...(BANDS[k] ? { itemStyle: { color: BANDS[k] } } : {}), areaStyle: type === 'line' ? {} : undefined, data: times.map((t) => [t, rows.filter((r) => r.k === k && Number(r.t) === t).reduce((s, r) => s + Number(r.n), 0)]) })),
  };
}
function pie(rows) {
  return { tooltip: { trigger: 'item', renderMode: 'richText' }, legend: { type: 'scroll', orient: 'vertical', left: 0, textStyle: { color: '#aab' } }, series: [{ type: 'pie', radius: ['35%', '70%'], center: ['72%', '50%'], label: { show: false }, data: rows.map((r) => ({ name: r.k, value: Number(r.n) })) }] };
}
const levelCls = (r) => (Number(r.level) >= 10 ? 'lvl-high' : '');
const alertCols = [
  { label: 'Time', render: (r) => fmtTime(r.t) },
  { label: 'Level', key: 'level', cls: levelCls },
  { label: 'Rule', render: (r) => entityLink('rule', r.rule_id) },
  { label: 'Description', key: 'description' },
  { label: 'Account', key: 'account' },
];
/** Opens the alert view (analyst.js), keeping the range. */
function showAlert(id) {
  location.hash = pageHref('alert', id);
}

async function api(path, extra = {}) {
  const r = currentRange();
  const params = new URLSearchParams({ from: String(Math.floor(r.from)), to: String(Math.ceil(r.to)), ...extra });
  const res = await fetch(`${path}${path.includes('?') ? '&' : '?'}${params}`);
  if (res.status === 401) location.href = '/login.html';
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}${res.status === 400 ? ` (${(await res.json().catch(() => ({}))).error ?? 'bad request'})` : ''}`);
  return res.json();
}

// ---------- pages ----------
const pages = {
  async overview() {
    const d = await api('/api/overview');
    chart(panel('Alerts over time by level'), stacked(d.byLevel));
    chart(panel('Alerts over time by source'), stacked(d.bySource));
    table(panel('Top rules', 'third'), [{ label: 'Rule', key: 'rule_id' }, { label: 'Level', key: 'level', cls: levelCls }, { label: 'Alerts', key: 'n' }, { label: 'Description', key: 'description' }], d.topRules, (r) => go('alerts', undefined, { rule: r.rule_id }));
    table(panel('Top IPs across all AWS sources', 'third'), [{ label: 'IP', render: (r) => ipLink(r.ip) }, { label: 'Alerts', key: 'alerts' }, { label: 'Sources', key: 'sources' }, { label: 'Max level', key: 'level' }], d.topIps);
    const ar = panel('Accounts and regions', 'third');
    table(ar, [{ label: 'Account', key: 'k' }, { label: 'Alerts', key: 'n' }], d.accounts);
    table(ar, [{ label: 'Region', key: 'k' }, { label: 'Alerts', key: 'n' }], d.regions);
    table(panel('Ingestion health per bucket', 'wide'), [
      { label: 'Bucket', key: 'bucket' }, { label: 'Type', key: 'type' }, { label: 'Objects', key: 'objects' }, { label: 'Records', key: 'records' },
      { label: 'Errors', key: 'errors', cls: (r) => (Number(r.errors) ? 'lvl-high' : '') }, { label: 'Last object read', render: (r) => fmtTime(r.last_processed) },
      { label: 'Lag (newest object)', render: (r) => (r.newest_object ? `${Math.round((Date.now() - Number(r.newest_object)) / 60000)} min` : '') }, { label: 'Last error', key: 'last_error' },
    ], d.health);
  },
  async vpc() {
    const d = await api('/api/vpc');
    const body = panel('Traffic over time (record time) — drag across the chart to narrow every panel', 'wide');
    const c = chart(body, {
      legend: { top: 0, textStyle: { color: '#aab' }, selected: { packets: false } },
      xAxis: { type: 'time' },
      yAxis: [{ type: 'value', name: 'bytes', axisLabel: { formatter: (v) => fmtBytes(v) } }, { type: 'value', name: 'flows' }],
      brush: { xAxisIndex: 0, brushType: 'lineX', brushMode: 'single', throttleType: 'debounce' },
      toolbox: { show: false },
      series: [
        { name: 'bytes', type: 'line', showSymbol: false, areaStyle: {}, data: d.series.map((r) => [Number(r.t), Number(r.bytes)]) },
        { name: 'packets', type: 'line', showSymbol: false, yAxisIndex: 1, data: d.series.map((r) => [Number(r.t), Number(r.packets)]) },
        { name: 'flows', type: 'line', showSymbol: false, yAxisIndex: 1, data: d.series.map((r) => [Number(r.t), Number(r.flows)]) },
        { name: 'rejected', type: 'line', showSymbol: false, yAxisIndex: 1, data: d.series.map((r) => [Number(r.t), Number(r.rejected)]) },
      ],
    }, true);
    c.dispatchAction({ type: 'takeGlobalCursor', key: 'brush', brushOption: { brushType: 'lineX', brushMode: 'single' } });
    c.on('brushEnd', (e) => {
      const range = e.areas?.[0]?.coordRange;
      if (range) go('vpc', undefined, { from: Math.floor(range[0]), to: Math.ceil(range[1]) });
    });
    table(panel('Who talked: top IP pairs by bytes', 'two-thirds'), [{ label: 'Source', render: (r) => ipLink(r.src) }, { label: 'Destination', render: (r) => ipLink(r.dst) }, { label: 'Bytes', render: (r) => fmtBytes(r.bytes) }, { label: 'Flows', key: 'flows' }, { label: 'Rejected', key: 'rejected' }], d.talkers);
    table(panel('Top rejected ports', 'third'), [{ label: 'Port', key: 'dport' }, { label: 'Rejected flows', key: 'n' }, { label: 'Sources', key: 'sources' }], d.rejectedPorts);
    chart(panel('Accept vs reject', 'third'), pie(d.actions));
    table(panel('Per ENI, account and region', 'two-thirds'), [{ label: 'ENI', render: (r) => entityLink('eni', r.eni) }, { label: 'Account', render: (r) => entityLink('account', r.account) }, { label: 'Region', key: 'region' }, { label: 'Bytes', render: (r) => fmtBytes(r.bytes) }], d.byEni);
  },
  async ip(ip) {
    const d = await api(`/api/ip/${encodeURIComponent(ip)}`);
    const s = d.summary ?? {};
    const sum = panel(`Everything about ${ip}`, 'wide');
    sum.append(el('p', {}, `${s.flows ?? 0} flows, ${fmtBytes(s.bytes ?? 0)}, ${s.rejected ?? 0} rejected, ${s.ports ?? 0} distinct destination ports, from ${fmtTime(s.first)} to ${fmtTime(s.last)}. `, el('span', { class: 'hint' }, 'Alerts are searched in all time.')));
    table(panel('Alerts from every source that name it', 'wide'), [...alertCols.slice(0, 3), { label: 'Source', key: 'source' }, ...alertCols.slice(3)], d.alerts, (r) => showAlert(r.id));
    table(panel('Peers by bytes', 'third'), [{ label: 'Peer', render: (r) => ipLink(r.peer) }, { label: 'Bytes', render: (r) => fmtBytes(r.bytes) }, { label: 'Flows', key: 'flows' }], d.peers);
    const f = panel('Flows (newest first)');
    f.parentElement.classList.add('wide');
    table(f, [{ label: 'Start', render: (r) => fmtTime(r.t) }, { label: 'Source', render: (r) => ipLink(r.src) }, { label: 'Port', key: 'sport' }, { label: 'Destination', render: (r) => ipLink(r.dst) }, { label: 'Port', key: 'dport' }, { label: 'Bytes', render: (r) => fmtBytes(r.bytes) }, { label: 'Action', key: 'action' }, { label: 'ENI', key: 'eni' }], d.flows);
  },
  async guardduty() {
    const d = await api('/api/guardduty');
    chart(panel('Finding types'), pie(d.byType));
    chart(panel('Findings over time by severity band'), stacked(d.bySeverity));
    chart(panel('Findings over time by threat purpose', 'wide'), stacked(d.byTypeOverTime));
    const cols = [{ label: 'Last seen', render: (r) => entityLink('finding', r.id, fmtTime(r.last_seen)) }, { label: 'Severity', key: 'severity', cls: (r) => (Number(r.severity) >= 7 ? 'lvl-high' : '') }, { label: 'Type', render: (r) => entityLink('finding-type', r.type) }];
    await attackMap(panel('Attacker locations on the map (click a point for its address)', 'wide'));
    table(panel('Brute force: attacked instance, attacker, port', 'wide'), [...cols, { label: 'Instance', render: (r) => entityLink('instance', r.instance_id) }, { label: 'Attacker', render: (r) => ipLink(r.remote_ip) }, { label: 'Port', key: 'port' }, { label: 'Role', key: 'resource_role' }, { label: 'Count', key: 'count' }], d.bruteForce);
    table(panel('API calls from an unusual network', 'wide'), [...cols, { label: 'User', render: (r) => entityLink('user', r.user_name) }, { label: 'API', key: 'api' }, { label: 'From', render: (r) => ipLink(r.remote_ip) }, { label: 'Location', render: (r) => [r.city, r.country].filter(Boolean).join(', ') }], d.unusualApi);
    table(panel('Compromised instances', 'wide'), [...cols, { label: 'Instance', render: (r) => entityLink('instance', r.instance_id) }, { label: 'Title', key: 'title' }], d.compromised);
    table(panel('Attacker locations', 'wide'), [{ label: 'Country', key: 'country' }, { label: 'City', key: 'city' }, { label: 'Lat', key: 'lat' }, { label: 'Lon', key: 'lon' }, { label: 'Findings', key: 'findings' }, { label: 'Addresses', key: 'ips' }], d.locations);
  },
  async cloudtrail() {
    const d = await api('/api/cloudtrail');
    const cols = [...alertCols, { label: 'From', render: (r) => ipLink(r.src_ip) }];
    table(panel('VPC changes: created and unauthorized attempts', 'wide'), cols, d.vpcChanges, (r) => showAlert(r.id));
    table(panel('Logging and firewall tampering', 'wide'), cols, d.evasion, (r) => showAlert(r.id));
    table(panel('Console logins', 'wide'), cols, d.logins, (r) => showAlert(r.id));
    table(panel('Errors and denials', 'wide'), cols, d.errors, (r) => showAlert(r.id));
  },
  async alerts() {
    const { params } = parseHash();
    const form = el('form', { id: 'alert-filter' });
    const fields = [['level', 'min level'], ['rule', 'rule id'], ['ip', 'IP'], ['account', 'account'], ['q', 'free text']];
    for (const [name, label] of fields) {
      const input = el('input', { name, placeholder: label, 'aria-label': label });
      input.value = params.get(name) ?? '';
      form.append(input, ' ');
    }
    form.append(el('button', { type: 'submit' }, 'Search'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const data = Object.fromEntries(fields.map(([n]) => [n, form.elements[n].value || undefined]));
      go('alerts', undefined, data);
    });
    const body = panel('Alerts (click a row for the whole alert)', 'wide');
    body.append(form);
    const extra = Object.fromEntries(fields.map(([n]) => [n, params.get(n)]).filter(([, v]) => v));
    const rows = await api('/api/alerts', extra);
    table(body, [...alertCols.slice(0, 3), { label: 'Source', key: 'source' }, { label: 'Description', key: 'description' }, { label: 'IP', render: (r) => ipLink(r.src_ip) }, { label: 'Account', key: 'account' }], rows, (r) => showAlert(r.id));
  },
};

Object.assign(pages, analystPages);
useRange(currentRange);

async function render() {
  delete document.body.dataset.loaded;
  for (const c of charts.splice(0)) c.dispose();
  main.replaceChildren();
  const { page, arg } = parseHash();
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === page);
  const r = currentRange();
  document.getElementById('range-text').textContent = `${fmtTime(r.from)} → ${fmtTime(r.to)} UTC`;
  const { params } = parseHash();
  document.getElementById('preset').value = params.has('from') ? 'custom' : 'all';
  try {
    await (pages[page] ?? pages.overview)(arg);
  } catch (e) {
    main.append(el('p', { class: 'lvl-high' }, `Could not load this page: ${e.message}`));
  }
  document.body.dataset.loaded = page;
  void refreshTriageBadge();
}

document.getElementById('preset').addEventListener('change', (e) => {
  const v = e.target.value;
  const max = dataRange?.max ?? Date.now();
  const { page, arg } = parseHash();
  if (v === 'all') go(page, arg, { from: undefined, to: undefined });
  else if (v === '24h') go(page, arg, { from: max - 86400000, to: max });
  else if (v === '6h') go(page, arg, { from: max - 6 * 3600000, to: max });
});
window.addEventListener('hashchange', render);
window.addEventListener('resize', () => charts.forEach((c) => c.resize()));
(async () => {
  const session = await (await fetch('/api/session')).json();
  if (session.authRequired && !session.signedIn) return (location.href = '/login.html');
  const res = await fetch('/api/range');
  dataRange = res.ok ? await res.json() : null;
  await render();
})();
