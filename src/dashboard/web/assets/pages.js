// The pages: overview, VPC traffic, IP pivot, GuardDuty, CloudTrail, alert search.
import { api, el, fmtBytes, fmtTime, go, ipLink, panel, parseHash, registerPage } from './core.js';
import { chart, pie, stacked } from './charts.js';
import { table } from './table.js';

export const levelCls = (r) => (Number(r.level) >= 10 ? 'lvl-high' : '');
export const alertCols = [
  { label: 'Time', render: (r) => fmtTime(r.t) },
  { label: 'Level', key: 'level', cls: levelCls },
  { label: 'Rule', key: 'rule_id' },
  { label: 'Description', key: 'description' },
  { label: 'Account', key: 'account' },
];
export async function showAlert(id) {
  const a = await api(`/api/alerts/${encodeURIComponent(id)}`);
  document.getElementById('detail-json').textContent = JSON.stringify(a, null, 2);
  document.getElementById('detail').showModal();
}

const pageList = {
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
    table(panel('Per ENI, account and region', 'two-thirds'), [{ label: 'ENI', key: 'eni' }, { label: 'Account', key: 'account' }, { label: 'Region', key: 'region' }, { label: 'Bytes', render: (r) => fmtBytes(r.bytes) }], d.byEni);
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
    const cols = [{ label: 'Last seen', render: (r) => fmtTime(r.last_seen) }, { label: 'Severity', key: 'severity', cls: (r) => (Number(r.severity) >= 7 ? 'lvl-high' : '') }, { label: 'Type', key: 'type' }];
    table(panel('Brute force: attacked instance, attacker, port', 'wide'), [...cols, { label: 'Instance', key: 'instance_id' }, { label: 'Attacker', render: (r) => ipLink(r.remote_ip) }, { label: 'Port', key: 'port' }, { label: 'Role', key: 'resource_role' }, { label: 'Count', key: 'count' }], d.bruteForce);
    table(panel('API calls from an unusual network', 'wide'), [...cols, { label: 'User', key: 'user_name' }, { label: 'API', key: 'api' }, { label: 'From', render: (r) => ipLink(r.remote_ip) }, { label: 'Location', render: (r) => [r.city, r.country].filter(Boolean).join(', ') }], d.unusualApi);
    table(panel('Compromised instances', 'wide'), [...cols, { label: 'Instance', key: 'instance_id' }, { label: 'Title', key: 'title' }], d.compromised);
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
for (const [name, render] of Object.entries(pageList)) registerPage(name, render);
