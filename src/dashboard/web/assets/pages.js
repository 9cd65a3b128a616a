// The pages: overview, VPC traffic, IP pivot, GuardDuty, CloudTrail, alert search.
import { api, el, fmtBytes, fmtTime, go, href, ipLink, panel, parseHash, registerPage } from './core.js';
import { chart, colourOf, legendTop, pie, stacked } from './charts.js';
import { pagedTable, table } from './table.js';
import { attackMap, entityLink, pageHref } from './analyst.js';

export const levelCls = (r) => (Number(r.level) >= 10 ? 'lvl-high' : '');
export const alertCols = [
  { label: 'Time', render: (r) => fmtTime(r.t), sort: 't' },
  { label: 'Level', key: 'level', cls: levelCls },
  { label: 'Rule', render: (r) => entityLink('rule', r.rule_id), sort: 'rule_id' },
  { label: 'Description', key: 'description' },
  { label: 'Account', key: 'account' },
];
/** Opens the alert view (alert-page.js), keeping the range and the search. */
export function showAlert(id) {
  location.hash = pageHref('alert', id);
}

const SEARCH_HELP = 'field:value (rule, level, ip, src_ip, dst_ip, account, region, source, description, groups, id), "a phrase", AND / OR / NOT (or -term), ( ), CIDR (ip:10.0.0.0/16), several values (rule:80640,80641), level:>=8';

/** The search box: the search is global (it follows to the other pages and is kept in saved views). */
function searchForm(value) {
  const form = el('form', { id: 'alert-search', role: 'search' });
  const input = el('input', { name: 'q', id: 'q', placeholder: 'level:>=8 AND (rule:80640,80641 OR "port scan") NOT ip:10.0.0.0/8', 'aria-label': 'search', spellcheck: 'false' });
  input.value = value;
  form.append(input, el('button', { type: 'submit' }, 'Search'), el('div', { class: 'hint' }, SEARCH_HELP));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    go('alerts', undefined, { q: input.value.trim() || undefined });
  });
  return form;
}

const pageList = {
  async overview() {
    const d = await api('/api/overview');
    chart(panel('Alerts over time by level'), stacked(d.byLevel));
    chart(panel('Alerts over time by source'), stacked(d.bySource));
    table(panel('Top rules', 'third'), [{ label: 'Rule', key: 'rule_id' }, { label: 'Level', key: 'level', cls: levelCls }, { label: 'Alerts', key: 'n' }, { label: 'Description', key: 'description' }], d.topRules, (r) => go('alerts', undefined, { q: `rule:${r.rule_id}` }));
    table(panel('Top IPs across all AWS sources', 'third'), [{ label: 'IP', render: (r) => ipLink(r.ip), sort: 'ip' }, { label: 'Alerts', key: 'alerts' }, { label: 'Sources', key: 'sources' }, { label: 'Max level', key: 'level' }], d.topIps);
    const ar = panel('Accounts and regions', 'third');
    table(ar, [{ label: 'Account', key: 'k' }, { label: 'Alerts', key: 'n' }], d.accounts);
    table(ar, [{ label: 'Region', key: 'k' }, { label: 'Alerts', key: 'n' }], d.regions);
    table(panel('Ingestion health per bucket', 'wide'), [
      { label: 'Bucket', key: 'bucket' }, { label: 'Type', key: 'type' }, { label: 'Objects', key: 'objects' }, { label: 'Records', key: 'records' },
      { label: 'Errors', key: 'errors', cls: (r) => (Number(r.errors) ? 'lvl-high' : '') }, { label: 'Last object read', sort: 'last_processed', render: (r) => fmtTime(r.last_processed) },
      { label: 'Lag (newest object)', sort: 'newest_object', render: (r) => (r.newest_object ? `${Math.round((Date.now() - Number(r.newest_object)) / 60000)} min` : '') }, { label: 'Last error', key: 'last_error' },
    ], d.health);
  },
  async vpc() {
    const d = await api('/api/vpc');
    const body = panel('Traffic over time (record time) — drag across the chart to narrow every panel', 'wide');
    chart(body, {
      legend: { ...legendTop, selected: { packets: false } },
      grid: { left: 60, right: 40, top: 60, bottom: 30 }, // the axis names sit between the legend and the plot
      xAxis: { type: 'time' },
      yAxis: [{ type: 'value', name: 'bytes', minInterval: 1, axisLabel: { formatter: (v) => fmtBytes(v) } }, { type: 'value', name: 'flows', minInterval: 1 }],
      series: [
        { name: 'bytes', type: 'line', showSymbol: false, areaStyle: {}, itemStyle: { color: colourOf('bytes') }, lineStyle: { color: colourOf('bytes') }, data: d.series.map((r) => [Number(r.t), Number(r.bytes)]) },
        ...['packets', 'flows', 'rejected'].map((k) => ({ name: k, type: 'line', showSymbol: false, yAxisIndex: 1, itemStyle: { color: colourOf(k) }, lineStyle: { color: colourOf(k) }, data: d.series.map((r) => [Number(r.t), Number(r[k])]) })),
      ],
    }, true);
    table(panel('Who talked: top IP pairs by bytes', 'two-thirds'), [{ label: 'Source', render: (r) => ipLink(r.src), sort: 'src' }, { label: 'Destination', render: (r) => ipLink(r.dst), sort: 'dst' }, { label: 'Bytes', render: (r) => fmtBytes(r.bytes), sort: 'bytes' }, { label: 'Flows', key: 'flows' }, { label: 'Rejected', key: 'rejected' }], d.talkers);
    table(panel('Top rejected ports', 'third'), [{ label: 'Port', key: 'dport' }, { label: 'Rejected flows', key: 'n' }, { label: 'Sources', key: 'sources' }], d.rejectedPorts);
    chart(panel('Accept vs reject', 'third'), pie(d.actions));
    table(panel('Per ENI, account and region', 'two-thirds'), [{ label: 'ENI', render: (r) => entityLink('eni', r.eni), sort: 'eni' }, { label: 'Account', render: (r) => entityLink('account', r.account), sort: 'account' }, { label: 'Region', key: 'region' }, { label: 'Bytes', render: (r) => fmtBytes(r.bytes), sort: 'bytes' }], d.byEni);
  },
  async ip(ip) {
    // the summary, the alerts and the flows are three requests: sent at once, each panel drawn when its answer comes
    const data = api(`/api/ip/${encodeURIComponent(ip)}`);
    const sum = panel(`Everything about ${ip}`, 'wide');
    const alerts = panel('Alerts from every source that name it', 'wide');
    const peers = panel('Peers by bytes', 'third');
    const f = panel('Flows (newest first)');
    f.parentElement.classList.add('two-thirds');
    const { params } = parseHash();
    await Promise.all([
      data.then((d) => {
        const s = d.summary ?? {};
        sum.append(el('p', {}, `${s.flows ?? 0} flows, ${fmtBytes(s.bytes ?? 0)}, ${s.rejected ?? 0} rejected, ${s.ports ?? 0} distinct destination ports, from ${fmtTime(s.first)} to ${fmtTime(s.last)}. `,
          el('span', { class: 'hint' }, 'Alerts whose address fields hold exactly this address, or whose text names it as a whole address, in the time range.')));
        table(peers, [{ label: 'Peer', render: (r) => ipLink(r.peer), sort: 'peer' }, { label: 'Bytes', render: (r) => fmtBytes(r.bytes), sort: 'bytes' }, { label: 'Flows', key: 'flows' }], d.peers);
      }),
      pagedTable(alerts, [...alertCols.slice(0, 3), { label: 'Source', key: 'source' }, ...alertCols.slice(3)], 'ip-alerts', { ip, q: params.get('q') }, (r) => showAlert(r.id)),
      pagedTable(f, [
        { label: 'Start', render: (r) => fmtTime(r.t), sort: 't' }, { label: 'Source', render: (r) => ipLink(r.src), sort: 'src' }, { label: 'Port', key: 'sport' }, { label: 'Destination', render: (r) => ipLink(r.dst), sort: 'dst' },
        { label: 'Port', key: 'dport' }, { label: 'Bytes', render: (r) => fmtBytes(r.bytes), sort: 'bytes' }, { label: 'Action', key: 'action' }, { label: 'ENI', key: 'eni', sort: false },
      ], 'ip-flows', { ip }),
    ]);
  },
  async guardduty() {
    // every panel is laid out at once and its request sent at once: the page costs its slowest answer, not the
    // sum of them (with the charts drawn while the other answers are on their way)
    const data = api('/api/guardduty');
    const types = panel('Finding types');
    const bands = panel('Findings over time by severity band');
    const purposes = panel('Findings over time by threat purpose', 'wide');
    const cols = [{ label: 'Last seen', render: (r) => entityLink('finding', r.id, fmtTime(r.last_seen)), sort: 'last_seen' }, { label: 'Severity', key: 'severity', cls: (r) => (Number(r.severity) >= 7 ? 'lvl-high' : '') }, { label: 'Type', render: (r) => entityLink('finding-type', r.type), sort: 'type' }];
    const map = panel('Attacker locations on the map (click a point for its address)', 'wide');
    const bruteForce = panel('Brute force: attacked instance, attacker, port', 'wide');
    const unusual = panel('API calls from an unusual network', 'wide');
    const compromised = panel('Compromised instances', 'wide');
    const locations = panel('Attacker locations', 'wide');
    await Promise.all([
      data.then((d) => {
        chart(types, pie(d.byType));
        chart(bands, stacked(d.bySeverity));
        chart(purposes, stacked(d.byTypeOverTime));
        table(locations, [{ label: 'Country', key: 'country' }, { label: 'City', key: 'city' }, { label: 'Lat', key: 'lat' }, { label: 'Lon', key: 'lon' }, { label: 'Findings', key: 'findings' }, { label: 'Addresses', key: 'ips' }], d.locations);
      }),
      attackMap(map),
      pagedTable(bruteForce, [...cols, { label: 'Instance', render: (r) => entityLink('instance', r.instance_id), sort: 'instance_id' }, { label: 'Attacker', render: (r) => ipLink(r.remote_ip), sort: 'remote_ip' }, { label: 'Port', key: 'port' }, { label: 'Role', key: 'resource_role' }, { label: 'Count', key: 'count' }], 'gd-brute-force'),
      pagedTable(unusual, [...cols, { label: 'User', render: (r) => entityLink('user', r.user_name), sort: 'user_name' }, { label: 'API', key: 'api' }, { label: 'From', render: (r) => ipLink(r.remote_ip), sort: 'remote_ip' }, { label: 'Location', render: (r) => [r.city, r.country].filter(Boolean).join(', '), sort: 'country' }], 'gd-unusual-api'),
      pagedTable(compromised, [...cols, { label: 'Instance', render: (r) => entityLink('instance', r.instance_id), sort: 'instance_id' }, { label: 'Title', key: 'title' }], 'gd-compromised'),
    ]);
  },
  async cloudtrail() {
    const { params } = parseHash();
    const cols = [...alertCols, { label: 'From', render: (r) => ipLink(r.src_ip), sort: 'src_ip' }];
    const filters = { q: params.get('q') };
    // the four tables' requests at once (laid out first, so they keep their order)
    const tables = [
      ['VPC changes: created and unauthorized attempts', 'ct-vpc-changes'],
      ['Logging and firewall tampering', 'ct-evasion'],
      ['Console logins', 'ct-logins'],
      ['Errors and denials', 'ct-errors'],
    ].map(([title, list]) => [panel(title, 'wide'), list]);
    await Promise.all(tables.map(([body, list]) => pagedTable(body, cols, list, filters, (r) => showAlert(r.id))));
  },
  async alerts() {
    const { params } = parseHash();
    // links made before the search language (#/alerts?level=8&rule=…&ip=…&account=…) become the same search
    const legacy = [['level', 'level'], ['rule', 'rule'], ['ip', 'ip'], ['account', 'account']].filter(([k]) => params.get(k));
    if (legacy.length && !params.get('q')) {
      const q = legacy.map(([k, f]) => `${f}:${/^[^\s()"]+$/.test(params.get(k)) ? params.get(k) : JSON.stringify(params.get(k))}`).join(' ');
      return location.replace(href('alerts', undefined, { q, level: undefined, rule: undefined, ip: undefined, account: undefined }));
    }
    const body = panel('Alerts (click a row for the whole alert)', 'wide');
    body.append(searchForm(params.get('q') ?? ''));
    await pagedTable(body, [...alertCols.slice(0, 3), { label: 'Source', key: 'source' }, { label: 'Description', key: 'description' }, { label: 'IP', render: (r) => ipLink(r.src_ip), sort: 'src_ip' }, { label: 'Account', key: 'account' }], 'alerts', { q: params.get('q') }, (r) => showAlert(r.id));
  },
};
for (const [name, render] of Object.entries(pageList)) registerPage(name, render);
