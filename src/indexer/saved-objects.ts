/**
 * OpenSearch Dashboards / Kibana saved objects (NDJSON, importable through Stack Management → Saved objects →
 * Import, or `tld indexer setup --dashboards-url`) for the product's views over what the indexer store writes:
 *
 * - VPC traffic: bytes over time (brush a peak to narrow the time range) → which address pairs talked;
 * - an address's alerts across sources (a saved search; type the address in the query bar);
 * - GuardDuty: finding types (pie), findings over time stacked by severity and by purpose (the part of the type
 *   before `:`), brute force, API calls from unusual networks, compromised instances;
 * - CloudTrail: VPCs created, and creations refused (UnauthorizedOperation / AccessDenied).
 *
 * Views select by fields (`type`, `purpose`, `action_type`, `data.aws.eventName`), not by rule ids, so rules a
 * user overrides do not empty them. `node --import tsx src/indexer/saved-objects.ts --write` regenerates
 * deploy/indexer/saved-objects.ndjson; a test fails when it is out of date, and checks every field a view uses
 * exists in the index templates.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

type Json = Record<string, unknown>;

export interface SavedObject {
  type: 'index-pattern' | 'visualization' | 'search' | 'dashboard';
  id: string;
  attributes: Json;
  references: { name: string; type: string; id: string }[];
  migrationVersion?: Json;
}

/** Index patterns: id → [title, time field] */
export const INDEX_PATTERNS = {
  'tld-alerts': ['wazuh-alerts-4.x-*', 'timestamp'],
  'tld-flows': ['tld-flows-*', '@timestamp'],
  'tld-findings': ['tld-guardduty-findings', '@timestamp'],
} as const;
type PatternId = keyof typeof INDEX_PATTERNS;

const searchSource = (query: string): string =>
  JSON.stringify({ query: { query, language: 'kuery' }, filter: [], indexRefName: 'kibanaSavedObjectMeta.searchSourceJSON.index' });
const indexRef = (pattern: PatternId) => [{ name: 'kibanaSavedObjectMeta.searchSourceJSON.index', type: 'index-pattern', id: pattern }];

interface Agg {
  id: string;
  type: string;
  schema: string;
  params: Json;
}
const count = (): Agg => ({ id: '1', type: 'count', schema: 'metric', params: {} });
const sum = (field: string, id = '1'): Agg => ({ id, type: 'sum', schema: 'metric', params: { field } });
const max = (field: string, id: string): Agg => ({ id, type: 'max', schema: 'metric', params: { field } });
const terms = (id: string, field: string, size: number, schema = 'bucket', orderBy = '1'): Agg => ({ id, type: 'terms', schema, params: { field, size, order: 'desc', orderBy, otherBucket: false, missingBucket: false } });
const overTime = (field: string): Agg => ({ id: '2', type: 'date_histogram', schema: 'segment', params: { field, interval: 'auto', min_doc_count: 1, extended_bounds: {} } });

/** Chart parameters of a line/histogram (OpenSearch Dashboards 1–2, Kibana 7 shape). */
function chartParams(type: 'line' | 'histogram', metricLabel: string): Json {
  return {
    type, addTooltip: true, addLegend: true, legendPosition: 'right', times: [], addTimeMarker: false,
    grid: { categoryLines: false },
    categoryAxes: [{ id: 'CategoryAxis-1', type: 'category', position: 'bottom', show: true, scale: { type: 'linear' }, labels: { show: true, filter: true, truncate: 100 }, title: {} }],
    valueAxes: [{ id: 'ValueAxis-1', name: 'LeftAxis-1', type: 'value', position: 'left', show: true, scale: { type: 'linear', mode: 'normal' }, labels: { show: true, rotate: 0, filter: false, truncate: 100 }, title: { text: metricLabel } }],
    seriesParams: [{ show: true, type: type === 'line' ? 'line' : 'histogram', mode: 'stacked', data: { label: metricLabel, id: '1' }, valueAxis: 'ValueAxis-1', drawLinesBetweenPoints: true, showCircles: true }],
  };
}
const TABLE = { perPage: 20, showPartialRows: false, showMetricsAtAllLevels: false, sort: { columnIndex: null, direction: null }, showTotal: false, totalFunc: 'sum', percentageCol: '' };
const PIE = { type: 'pie', addTooltip: true, addLegend: true, legendPosition: 'right', isDonut: true, labels: { show: false, values: true, last_level: true, truncate: 100 } };

function vis(id: string, title: string, pattern: PatternId, type: string, params: Json, aggs: Agg[], query = '', description = ''): SavedObject {
  return {
    type: 'visualization', id,
    attributes: { title, description, version: 1, uiStateJSON: '{}', visState: JSON.stringify({ title, type, params, aggs }), kibanaSavedObjectMeta: { searchSourceJSON: searchSource(query) } },
    references: indexRef(pattern),
    migrationVersion: { visualization: '7.10.0' },
  };
}

function search(id: string, title: string, pattern: PatternId, columns: string[], query: string, description: string): SavedObject {
  const time = INDEX_PATTERNS[pattern][1];
  return {
    type: 'search', id,
    attributes: { title, description, columns, sort: [[time, 'desc']], version: 1, kibanaSavedObjectMeta: { searchSourceJSON: searchSource(query) } },
    references: indexRef(pattern),
    migrationVersion: { search: '7.9.3' },
  };
}

function dashboard(id: string, title: string, description: string, panels: { id: string; type: 'visualization' | 'search'; w: number; h: number }[]): SavedObject {
  let x = 0;
  let y = 0;
  let rowH = 0;
  const panelsJSON = panels.map((p, i) => {
    if (x + p.w > 48) {
      x = 0;
      y += rowH;
      rowH = 0;
    }
    const grid = { x, y, w: p.w, h: p.h, i: String(i + 1) };
    x += p.w;
    rowH = Math.max(rowH, p.h);
    return { version: '7.10.2', gridData: grid, panelIndex: String(i + 1), embeddableConfig: {}, panelRefName: `panel_${i}` };
  });
  return {
    type: 'dashboard', id,
    attributes: {
      title, description, hits: 0, version: 1, timeRestore: false, optionsJSON: JSON.stringify({ hidePanelTitles: false, useMargins: true }),
      panelsJSON: JSON.stringify(panelsJSON), kibanaSavedObjectMeta: { searchSourceJSON: JSON.stringify({ query: { query: '', language: 'kuery' }, filter: [] }) },
    },
    references: panels.map((p, i) => ({ name: `panel_${i}`, type: p.type, id: p.id })),
    migrationVersion: { dashboard: '7.9.3' },
  };
}

const COMPROMISED = 'purpose:(Backdoor or Trojan or CryptoCurrency) or type:*C&CActivity* or type:*Exfiltration* or type:*BitcoinDomainRequest*';

/** Every saved object, index patterns first (an import resolves references in order). */
export function savedObjects(): SavedObject[] {
  const patterns: SavedObject[] = Object.entries(INDEX_PATTERNS).map(([id, [title, timeFieldName]]) => ({
    type: 'index-pattern', id, attributes: { title, timeFieldName }, references: [], migrationVersion: { 'index-pattern': '7.6.0' },
  }));
  const views: SavedObject[] = [
    vis('tld-vpc-traffic', 'VPC traffic over time (bytes by action)', 'tld-flows', 'line', chartParams('line', 'Bytes'), [sum('bytes'), overTime('@timestamp'), terms('3', 'action', 3, 'group')], '', 'Drag across a peak to narrow the time range of the whole dashboard.'),
    vis('tld-vpc-pairs', 'Which address pairs talked', 'tld-flows', 'table', TABLE, [sum('bytes'), terms('2', 'srcaddr', 50), terms('3', 'dstaddr', 5), terms('4', 'dstport', 3), max('packets', '5')]),
    vis('tld-vpc-rejected-sources', 'Rejected traffic by source address', 'tld-flows', 'table', TABLE, [count(), terms('2', 'srcaddr', 25), terms('3', 'account_id', 3)], 'action:REJECT'),
    search('tld-alerts-by-address', "An address's alerts across sources", 'tld-alerts', ['rule.description', 'rule.level', 'data.aws.source', 'data.aws.srcaddr', 'data.aws.dstaddr', 'data.aws.sourceIPAddress', 'data.aws.eventName'], 'data.integration:aws', 'Type the address in the query bar, e.g. data.aws.srcaddr:"203.0.113.7" or data.aws.dstaddr:"203.0.113.7" or data.aws.sourceIPAddress:"203.0.113.7" or data.aws.service.action.networkConnectionAction.remoteIpDetails.ipAddressV4:"203.0.113.7".'),
    vis('tld-alerts-by-source', 'Alerts by source and rule', 'tld-alerts', 'table', TABLE, [count(), terms('2', 'data.aws.source', 5), terms('3', 'rule.description', 20)], 'data.integration:aws'),
    vis('tld-gd-types', 'GuardDuty finding types', 'tld-findings', 'pie', PIE, [count(), terms('2', 'type', 20, 'segment')]),
    vis('tld-gd-by-severity', 'Findings over time by severity', 'tld-findings', 'histogram', chartParams('histogram', 'Findings'), [count(), overTime('@timestamp'), terms('3', 'severity_label', 4, 'group')]),
    vis('tld-gd-by-purpose', 'Findings over time by purpose', 'tld-findings', 'histogram', chartParams('histogram', 'Findings'), [count(), overTime('@timestamp'), terms('3', 'purpose', 12, 'group')]),
    vis('tld-gd-brute-force', 'Brute force', 'tld-findings', 'table', TABLE, [max('count', '1'), terms('2', 'remote_ip', 25, 'bucket', '1'), terms('3', 'instance_id', 5, 'bucket', '1'), terms('4', 'port', 3, 'bucket', '1')], 'type:*BruteForce*'),
    vis('tld-gd-unusual-api', 'API calls from unusual networks', 'tld-findings', 'table', TABLE, [count(), terms('2', 'api', 25), terms('3', 'remote_ip', 5), terms('4', 'user_name', 5), terms('5', 'country', 3)], 'action_type:AWS_API_CALL'),
    vis('tld-gd-compromised', 'Compromised instances', 'tld-findings', 'table', TABLE, [max('severity', '1'), terms('2', 'instance_id', 25, 'bucket', '1'), terms('3', 'type', 5, 'bucket', '1'), terms('4', 'account_id', 3, 'bucket', '1')], COMPROMISED),
    vis('tld-ct-vpc-created', 'CloudTrail: VPCs created and creations refused', 'tld-alerts', 'table', TABLE, [count(), terms('2', 'data.aws.errorCode', 5), terms('3', 'data.aws.userIdentity.arn', 20), terms('4', 'data.aws.awsRegion', 5), terms('5', 'data.aws.sourceIPAddress', 5)], 'data.aws.eventName:CreateVpc', 'Rows without an error code are VPCs created; UnauthorizedOperation / AccessDenied rows are refused creations.'),
  ];
  const boards = [
    dashboard('tld-dashboard-vpc', 'ThreatLockDown: VPC traffic', 'Traffic over time, then who talked in the range you brush; an address\'s alerts below.', [
      { id: 'tld-vpc-traffic', type: 'visualization', w: 48, h: 14 }, { id: 'tld-vpc-pairs', type: 'visualization', w: 24, h: 18 }, { id: 'tld-vpc-rejected-sources', type: 'visualization', w: 24, h: 18 },
      { id: 'tld-alerts-by-source', type: 'visualization', w: 16, h: 16 }, { id: 'tld-alerts-by-address', type: 'search', w: 32, h: 16 },
    ]),
    dashboard('tld-dashboard-guardduty', 'ThreatLockDown: GuardDuty', 'Findings (one document per finding id, newest update).', [
      { id: 'tld-gd-types', type: 'visualization', w: 16, h: 15 }, { id: 'tld-gd-by-severity', type: 'visualization', w: 16, h: 15 }, { id: 'tld-gd-by-purpose', type: 'visualization', w: 16, h: 15 },
      { id: 'tld-gd-brute-force', type: 'visualization', w: 16, h: 16 }, { id: 'tld-gd-unusual-api', type: 'visualization', w: 16, h: 16 }, { id: 'tld-gd-compromised', type: 'visualization', w: 16, h: 16 },
    ]),
    dashboard('tld-dashboard-cloudtrail', 'ThreatLockDown: CloudTrail VPC creation', 'CreateVpc calls, allowed and refused.', [{ id: 'tld-ct-vpc-created', type: 'visualization', w: 48, h: 16 }]),
  ];
  return [...patterns, ...views, ...boards];
}

/** The NDJSON an import takes: one object per line. */
export function savedObjectsNdjson(): string {
  return savedObjects().map((o) => JSON.stringify(o)).join('\n') + '\n';
}

export const NDJSON_PATH = 'deploy/indexer/saved-objects.ndjson';

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--write')) {
  writeFileSync(new URL(`../../${NDJSON_PATH}`, import.meta.url), savedObjectsNdjson());
  process.stdout.write(`Wrote ${NDJSON_PATH}.\n`);
}
