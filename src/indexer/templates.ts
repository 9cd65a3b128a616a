/**
 * Index templates (`_index_template`, composable) for what the indexer store writes, and their installation.
 *
 * Alerts go into Wazuh's own `wazuh-alerts-4.x-*` indices. A Wazuh install already has Wazuh's template for
 * them (legacy `_template` "wazuh", from `wazuh-template.json`), which also types the alerts of Wazuh's agents:
 * a composable template on the same pattern would take precedence over it and drop those types. So ours is
 * installed only where no other template covers `wazuh-alerts-4.x-*` (a plain OpenSearch or Elasticsearch
 * cluster); it types the fields our alerts carry exactly as Wazuh's template does (a test compares them), plus
 * `correlation`. Flows, findings and object health get templates of their own (`tld-*`), installed when absent
 * or older than ours (`version`), so a template a user changed on purpose is kept until we ship a newer one.
 */
import { ALERTS_PREFIX, FINDINGS_INDEX, FLOWS_PREFIX, HISTORY_INDEX, PARTIALS_INDEX } from './documents.js';
import type { IndexerPort, TemplateInfo } from './client.js';

export const TEMPLATE_VERSION = 1;
export const OBJECTS_INDEX = 'tld-objects';

const keyword = { type: 'keyword' } as const;
const long = { type: 'long' } as const;
const date = { type: 'date' } as const;
const ip = { type: 'ip' } as const;

/** `data.aws` as Wazuh 4.x's template types it (extensions/elasticsearch/7.x/wazuh-template.json). */
const WAZUH_DATA_AWS = {
  properties: {
    source: keyword, accountId: keyword, log_info: { properties: { s3bucket: keyword } }, region: keyword, bytes: long,
    dstaddr: ip, srcaddr: ip, end: date, start: date, source_ip_address: ip,
    service: {
      properties: {
        count: long,
        'action.networkConnectionAction.remoteIpDetails': { properties: { ipAddressV4: ip, geoLocation: { type: 'geo_point' } } },
        eventFirstSeen: date, eventLastSeen: date,
      },
    },
    createdAt: date, updatedAt: date,
    'resource.instanceDetails': { properties: { launchTime: date, networkInterfaces: { properties: { privateIpAddress: ip, publicIp: ip } } } },
  },
};

/**
 * Fields the saved views (saved-objects.ts) read that Wazuh's template leaves to its dynamic template
 * (`string_as_keyword`): typed here as that gives them, so the views work the same under either template.
 */
const VIEW_FIELDS = { eventName: keyword, eventSource: keyword, errorCode: keyword, awsRegion: keyword, sourceIPAddress: keyword, userIdentity: { properties: { arn: keyword } } };

/** Wazuh's alert fields our alerts carry, typed as in Wazuh's template; `correlation` is ours. */
export function alertsTemplate(): object {
  return {
    index_patterns: [`${ALERTS_PREFIX}*`],
    version: TEMPLATE_VERSION,
    priority: 0,
    _meta: { managed_by: 'threatlockdown', note: 'installed only when no other template covers wazuh-alerts-4.x-*' },
    template: {
      settings: { 'index.refresh_interval': '5s', 'index.number_of_shards': 3, 'index.auto_expand_replicas': '0-1', 'index.mapping.total_fields.limit': 10000 },
      mappings: {
        dynamic_templates: [{ string_as_keyword: { match_mapping_type: 'string', mapping: keyword } }],
        date_detection: false,
        properties: {
          '@timestamp': date,
          timestamp: { type: 'date', format: 'date_optional_time||epoch_millis' },
          rule: {
            properties: {
              description: keyword, groups: keyword, level: long, id: keyword, frequency: long, firedtimes: long, mail: { type: 'boolean' },
              mitre: { properties: { id: keyword, tactic: keyword, technique: keyword } },
            },
          },
          agent: { properties: { id: keyword, name: keyword, ip: keyword } },
          manager: { properties: { name: keyword } },
          id: keyword,
          location: keyword,
          decoder: { properties: { name: keyword, parent: keyword } },
          full_log: { type: 'text' },
          data: { properties: { integration: keyword, aws: { properties: { ...WAZUH_DATA_AWS.properties, ...VIEW_FIELDS } } } },
          correlation: { properties: { count: long, distinct: long, window_start: date } },
        },
      },
    },
  };
}

/** One compact document per flow record (see documents.ts). Strict: a field we do not write is an error. */
export function flowsTemplate(): object {
  return {
    index_patterns: [`${FLOWS_PREFIX}*`],
    version: TEMPLATE_VERSION,
    priority: 100,
    _meta: { managed_by: 'threatlockdown' },
    template: {
      // flows are many and read as aggregates: compressed stored fields, less frequent refreshes
      settings: { 'index.codec': 'best_compression', 'index.refresh_interval': '30s', 'index.number_of_shards': 1 },
      mappings: {
        dynamic: 'strict',
        properties: {
          '@timestamp': date, end: date, srcaddr: ip, dstaddr: ip, src_text: keyword, dst_text: keyword,
          srcport: { type: 'integer' }, dstport: { type: 'integer' }, protocol: { type: 'short' }, packets: long, bytes: long,
          action: keyword, log_status: keyword, interface_id: keyword, account_id: keyword, region: keyword, s3bucket: keyword,
        },
      },
    },
  };
}

const FINDING_FIELDS = {
  '@timestamp': date, id: keyword, type: keyword, purpose: keyword, severity: { type: 'float' }, severity_label: keyword, title: keyword,
  account_id: keyword, region: keyword, instance_id: keyword, user_name: keyword, api: keyword, action_type: keyword, remote_ip: ip,
  country: keyword, city: keyword, location: { type: 'geo_point' }, port: { type: 'integer' }, resource_role: keyword,
  first_seen: date, last_seen: date, count: long, s3bucket: keyword,
};

export function findingsTemplate(): object {
  return { index_patterns: [FINDINGS_INDEX], version: TEMPLATE_VERSION, priority: 100, _meta: { managed_by: 'threatlockdown' }, template: { settings: { 'index.number_of_shards': 1 }, mappings: { dynamic: 'strict', properties: FINDING_FIELDS } } };
}

export function historyTemplate(): object {
  const { '@timestamp': ts, type, purpose, severity, severity_label, count, account_id, region } = FINDING_FIELDS;
  return {
    index_patterns: [HISTORY_INDEX], version: TEMPLATE_VERSION, priority: 100, _meta: { managed_by: 'threatlockdown' },
    template: { settings: { 'index.number_of_shards': 1 }, mappings: { dynamic: 'strict', properties: { '@timestamp': ts, finding_id: keyword, type, purpose, severity, severity_label, count, account_id, region } } },
  };
}

/** Per-object ingestion health (what the embedded store's `objects` table holds). */
export function objectsTemplate(): object {
  return {
    index_patterns: [OBJECTS_INDEX], version: TEMPLATE_VERSION, priority: 100, _meta: { managed_by: 'threatlockdown' },
    template: {
      settings: { 'index.number_of_shards': 1 },
      mappings: { dynamic: 'strict', properties: { '@timestamp': date, bucket: keyword, key: keyword, type: keyword, status: keyword, error: { type: 'text' }, records: long, bytes: long, last_modified: date } },
    },
  };
}

/**
 * Frequency-window partials (documents.ts `partialItem`): searched by rule, key hash and ingest time; the
 * occurrences themselves (`w`) are only read back, never searched. Refreshed every second: the correlator's
 * look-back over `ingested` must cover the refresh.
 */
export function partialsTemplate(): object {
  return {
    index_patterns: [PARTIALS_INDEX], version: TEMPLATE_VERSION, priority: 100, _meta: { managed_by: 'threatlockdown' },
    template: {
      settings: { 'index.number_of_shards': 1, 'index.refresh_interval': '1s' },
      mappings: {
        dynamic: 'strict',
        properties: {
          '@timestamp': date, ingested: date, rule: keyword, key_hash: keyword, object_id: keyword, bucket: keyword, object_key: keyword,
          first: date, last: date, count: long, writer: keyword, w: { type: 'object', enabled: false },
        },
      },
    },
  };
}

/** Our templates by name. */
export function templates(): Record<string, object> {
  return { 'tld-wazuh-alerts': alertsTemplate(), 'tld-flows': flowsTemplate(), 'tld-guardduty-findings': findingsTemplate(), 'tld-guardduty-history': historyTemplate(), 'tld-objects': objectsTemplate(), 'tld-correlation-partials': partialsTemplate() };
}

/** Whether a template pattern (`wazuh-alerts-*`, `wazuh-alerts-4.x-*`, `*`) covers the alert indices. */
function coversAlerts(pattern: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(`${ALERTS_PREFIX}2026.01.01`);
}

export interface TemplateReport {
  installed: string[];
  kept: string[];
  /** the template that types the alert indices, when it is not ours */
  alertsTemplate?: string;
}

/**
 * What `installTemplates` would do given the cluster's templates, without doing it (`tld doctor` reports it):
 * `installed` lists the templates missing or older than ours.
 */
export function planTemplates(existing: { composable: TemplateInfo[]; legacy: TemplateInfo[] }): TemplateReport {
  const byName = new Map<string, TemplateInfo>(existing.composable.map((t) => [t.name, t]));
  const report: TemplateReport = { installed: [], kept: [] };
  const foreign = [...existing.composable.filter((t) => t.name !== 'tld-wazuh-alerts'), ...existing.legacy].find((t) => t.indexPatterns.some(coversAlerts));
  for (const name of Object.keys(templates())) {
    if (name === 'tld-wazuh-alerts' && foreign) {
      report.alertsTemplate = foreign.name;
      report.kept.push(name);
      continue;
    }
    const have = byName.get(name);
    if (have && (have.version ?? 0) >= TEMPLATE_VERSION) {
      report.kept.push(name);
      continue;
    }
    report.installed.push(name);
  }
  return report;
}

/** Installs what is missing or older than ours; see the module comment for the alert indices. */
export async function installTemplates(port: IndexerPort): Promise<TemplateReport> {
  const report = planTemplates(await port.templates());
  const all = templates();
  for (const name of report.installed) await port.putIndexTemplate(name, all[name]!);
  return report;
}
